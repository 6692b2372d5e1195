// The training loop both apps share: epochs of batches from a TrainingTask, the NaN/Inf guard, bounded runs,
// validation after every epoch, checkpoints (last.safetensors every epoch and at a stop, best.safetensors on a
// better validation score, both atomic, with optimizer state, the position in the data and the model card),
// exact resume, Ctrl-C/SIGTERM handling (save after the current step, exit 130), the loss-curve PNG and the run
// report (metrics.json).
#pragma once

#include <nlohmann/json.hpp>

#include <limits>
#include <map>
#include <optional>
#include <string>

#include "apps/common/training.h"
#include "layers/grad_scaler.h"
#include "layers/optim.h"
#include "runtime/settings.h"
#include "models/model.h"
#include "models/data/loader.h"

namespace engine::apps {

// Where a run stands; stored as JSON in the checkpoint's metadata ("train_state") so --resume continues exactly.
struct TrainState {
    std::string app;
    int64_t epoch = 0;        // the current epoch, 0-based
    int64_t batch = 0;        // batches of it already done
    int64_t global_step = 0;  // optimizer steps so far
    uint64_t seed = 1;
    int64_t batch_size = 0;
    int64_t train_samples = 0;
    double epoch_loss_sum = 0;  // of the current epoch's done batches
    int64_t epoch_images = 0;
    double epoch_seconds = 0;
    double train_seconds = 0, eval_seconds = 0;  // over all runs
    double best_score = -std::numeric_limits<double>::infinity();
    int64_t best_epoch = 0, best_step = 0;
    double grad_scale = 0;               // fp16: the loss scale and its clean-step count (0: none), so that a
    int64_t grad_scale_clean_steps = 0;  // resumed run scales exactly as an uninterrupted one
    LossHistory history;
    nlohmann::json epochs = nlohmann::json::array();  // one record per finished epoch

    nlohmann::json to_json() const;
    static TrainState from_json(const nlohmann::json& j, const std::string& source);
};

// The app's training state from a checkpoint (validated as a checkpoint written by `app`), before the model
// and data are built: the seed and batch size decide the data order.
TrainState read_train_state(const std::string& checkpoint_path, const std::string& app);

struct TrainOptions {
    std::string app;  // "train_unet", "train_classifier"
    std::string out_dir;
    int64_t epochs = 1;
    int64_t max_steps = 0;
    double time_limit_minutes = 0;
    uint64_t seed = 1;
    std::string resume;  // checkpoint path, or empty
    Device device;
    int64_t debug_nan_at_step = 0;  // makes the loss NaN at this global step (tests of the NaN guard)
    double clip_grad_norm = 0;      // 0: no clipping
    std::string precision = "fp32";  // fp32, tf32, bf16 (autocast), fp16 (autocast + loss scaling)
    double init_grad_scale = 0;      // fp16: the first loss scale (0: GradScaler's default)
    std::optional<double> lr_override;  // with resume: replaces the checkpoint's learning rate
    int64_t log_every = 0;          // plain progress lines every N steps (0: about ten per epoch)
    std::string score_name;         // the validation metric that picks best.safetensors ("mean_iou")
    int64_t batch_size = 0;
    int64_t train_samples = 0;
    nlohmann::json config;          // the command line, for the report
    nlohmann::json data;            // what the data is, for the report
    std::map<std::string, std::string> metadata;  // stored in every checkpoint (ModelCard::to_metadata)
};

// What one validation pass found.
struct Evaluation {
    double score = std::numeric_limits<double>::quiet_NaN();  // higher is better
    double loss = std::numeric_limits<double>::quiet_NaN();
    nlohmann::json metrics = nlohmann::json::object();  // merged into the epoch record
    std::string summary;  // one line
    std::string details;  // printed below it (a confusion table); may be empty
};

// The app-specific half of training.
class TrainingTask {
public:
    virtual ~TrainingTask() = default;
    virtual int64_t batches_per_epoch() const = 0;
    // Begins epoch `epoch` (0-based) at batch `first_batch` (non-zero when resuming mid-epoch).
    virtual void start_epoch(int64_t epoch, int64_t first_batch) = 0;
    virtual bool next_batch(data::Batch& batch) = 0;
    // The training loss of a batch (already on the device); the model is in training mode.
    virtual Tensor loss(const data::Batch& batch) = 0;
    // Validation with the model in eval mode under no-grad.
    virtual Evaluation evaluate() = 0;
    // Pictures of the current model (e.g. the validation grid); called after evaluate().
    virtual void write_pictures(const std::string& out_dir) {}
};

// Runs the training; returns the exit code. NonFiniteError and data errors propagate (after metrics.json is
// written) for run_main to report. SIGINT/SIGTERM (handled while run() runs) stop the run after the current step:
// last.safetensors is saved with the position reached, one line on stderr says how to resume, and run() returns
// kExitInterrupted.
class Trainer {
public:
    Trainer(TrainOptions options, models::Model& model, optim::Optimizer& optimizer, TrainingTask& task);
    int run();

    std::string last_path() const { return options_.out_dir + "/last.safetensors"; }
    std::string best_path() const { return options_.out_dir + "/best.safetensors"; }

private:
    enum class EpochEnd { Finished, Stopped, Interrupted };  // Stopped: by --max-steps / --time-limit
    // --resume: the model, optimizer and position of the checkpoint.
    void resume();
    EpochEnd train_epoch(int64_t batches);
    // Evaluates, saves and reports a run stopped inside an epoch by --max-steps / --time-limit.
    Evaluation finish_stopped(const std::string& status);
    int finish_interrupted(int64_t batches);
    void finish_epoch();
    // Records e as the best so far when it scores higher; true when it did.
    bool update_best(const Evaluation& e);
    Evaluation evaluate();
    void save_checkpoint(const std::string& path);
    void save_best_as_last();
    // Writes last.safetensors for the current position (and best.safetensors as the same file when `best`).
    void save_last(bool best);
    void write_report(const std::string& status, const std::optional<Evaluation>& final_eval);
    void draw_loss_curve() const;
    std::string kept_message() const;

    TrainOptions options_;
    models::Model& model_;
    optim::Optimizer& optimizer_;
    TrainingTask& task_;
    TrainState state_;
    std::optional<DType> autocast_;                // bf16 / fp16: the forward pass runs under autocast
    std::optional<optim::GradScaler> scaler_;      // fp16
    std::optional<ScopedSetting<bool>> tf32_;      // tf32: for the whole run
    StopRule stop_;
    bool have_last_ = false;
    int64_t last_saved_epoch_ = 0, last_saved_step_ = 0;
};

// True when every parameter and buffer of the module is finite.
bool all_finite(const nn::Module& module);

}  // namespace engine::apps
