/* main.c: the front door: global options, then one command. */
#include "tcptune.h"
int main(void) { return 0; }
