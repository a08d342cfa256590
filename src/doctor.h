/* doctor.h */
#pragma once
