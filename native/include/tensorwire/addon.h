// tensorwire/addon.h: everything an addon usually needs from native/include.
#pragma once

#include "tensorwire/buffers.h"
#include "tensorwire/errors.h"
#include "tensorwire/jobs.h"
#include "tensorwire/worker.h"
