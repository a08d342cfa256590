/* catalogue.c */
#include "catalogue.h"
