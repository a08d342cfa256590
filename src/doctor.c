/* doctor.c */
#include "doctor.h"
