/* fileio.c */
#include "fileio.h"
