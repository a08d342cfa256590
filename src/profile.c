/* profile.c */
#include "profile.h"
