// engine::explain, the attribution library behind apps/explain, on the engine's own autograd. Everything a
// caller needs in one include:
//
//   target.h     Target (class, predicted, all_present, pixel, region; segmentation masks frozen from the clean
//                prediction) and ResolvedTarget (per-job weights; results have one row per job)
//   common.h     Explanation (the common result), ModelScope, LayerCapture, conv_layer_paths,
//                default_cam_layer, Upsample, check_input
//   baseline.h   Baseline (zeros, constant, blur, uniform noise, image) and gaussian_blur
//   cam.h        layer_cam / grad_cam / cam_sweep (Grad-CAM, Grad-CAM++, HiResCAM, LayerCAM), layer_activations
//   gradients.h  input_gradient, saliency, input_x_gradient, integrated_gradients (5 quadratures, streamed)
//   ablation.h   feature_ablation, occlusion, grid_mask, predicted_segments
//   lime.h       lime (Philox samples, cosine kernel, weighted ridge), weighted_ridge
//   metrics.h    attribution_curve (deletion/insertion AUC), random_map, spearman, model_randomization
//
// Conventions: inputs are (N, C, H, W) batches on the model's device and dtype; the model is put in eval
// mode and its parameters stop requiring grad for the duration of a call (restored afterwards), so no weight
// gradient is ever computed and no .grad() is touched. Maps are signed and unnormalised (normalising for
// display is the renderer's job) and stay on the input's device.
#pragma once

#include "apps/explain/attribution/ablation.h"
#include "apps/explain/attribution/baseline.h"
#include "apps/explain/attribution/cam.h"
#include "apps/explain/attribution/common.h"
#include "apps/explain/attribution/gradients.h"
#include "apps/explain/attribution/lime.h"
#include "apps/explain/attribution/metrics.h"
#include "apps/explain/attribution/target.h"
