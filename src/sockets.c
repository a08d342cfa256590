/* sockets.c */
#include "sockets.h"
