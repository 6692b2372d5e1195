// Everything of the nn layer system in one include: Module, the layers, containers, losses, initialisers and
// optimizers.
#pragma once

#include "layers/basic.h"
#include "layers/batch_norm.h"
#include "layers/container.h"
#include "layers/conv.h"
#include "layers/init.h"
#include "layers/loss.h"
#include "layers/module.h"
#include "layers/optim.h"
#include "layers/pool.h"
