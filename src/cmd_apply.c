/* cmd_apply.c */
#include "tcptune.h"
