/* fileio.h */
#pragma once
