/* sockets.h */
#pragma once
