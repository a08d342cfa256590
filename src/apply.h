/* apply.h */
#pragma once
