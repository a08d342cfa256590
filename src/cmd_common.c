/* cmd_common.c: what every command opens first; error printing. */
#include "tcptune.h"
