/* cmd_sockets.c */
#include "tcptune.h"
