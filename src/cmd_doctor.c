/* cmd_doctor.c */
#include "tcptune.h"
