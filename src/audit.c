/* audit.c */
#include "audit.h"
