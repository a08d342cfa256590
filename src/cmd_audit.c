/* cmd_audit.c */
#include "tcptune.h"
