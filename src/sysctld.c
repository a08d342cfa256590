/* sysctld.c */
#include "sysctld.h"
