/* output.c */
#include "output.h"
