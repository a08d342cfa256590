/* procsys.c */
#include "procsys.h"
