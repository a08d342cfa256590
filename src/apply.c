/* apply.c */
#include "apply.h"
