/* cmd_profile.c */
#include "tcptune.h"
