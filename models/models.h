// The model zoo in one include: UNet, LeNet, VGG, FCN32s, the factory and checkpoints.
#pragma once

#include "models/checkpoint.h"
#include "models/fcn.h"
#include "models/lenet.h"
#include "models/model.h"
#include "models/unet.h"
#include "models/vgg.h"
