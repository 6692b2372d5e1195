// The shared training loop: steps, the NaN guard, validation, checkpoints, resume, loss curve and report.
#include "apps/common/trainer.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "apps/common/app_main.h"
#include "apps/common/interrupt.h"
#include "apps/common/metrics.h"
#include "apps/common/progress.h"
#include "autograd/autocast.h"
#include "models/checkpoint.h"
#include "apps/common/draw.h"
#include "runtime/json.h"

namespace engine::apps {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr uint64_t kDropoutSalt = 0xD50u;

}  // namespace

// ---------------------------------------------------------------- TrainState

nlohmann::json TrainState::to_json() const {
    return {{"app", app},
            {"epoch", epoch},
            {"batch", batch},
            {"global_step", global_step},
            {"seed", seed},
            {"batch_size", batch_size},
            {"train_samples", train_samples},
            {"epoch_loss_sum", epoch_loss_sum},
            {"epoch_images", epoch_images},
            {"epoch_seconds", epoch_seconds},
            {"train_seconds", train_seconds},
            {"eval_seconds", eval_seconds},
            {"best_score", json_number(best_score)},
            {"best_epoch", best_epoch},
            {"best_step", best_step},
            {"grad_scale", grad_scale},
            {"grad_scale_clean_steps", grad_scale_clean_steps},
            {"history", history.to_json()},
            {"epochs", epochs}};
}

TrainState TrainState::from_json(const nlohmann::json& j, const std::string& source) {
    TrainState s;
    try {
        s.app = j.at("app").get<std::string>();
        s.epoch = j.at("epoch").get<int64_t>();
        s.batch = j.at("batch").get<int64_t>();
        s.global_step = j.at("global_step").get<int64_t>();
        s.seed = j.at("seed").get<uint64_t>();
        s.batch_size = j.at("batch_size").get<int64_t>();
        s.train_samples = j.at("train_samples").get<int64_t>();
        s.epoch_loss_sum = j.at("epoch_loss_sum").get<double>();
        s.epoch_images = j.at("epoch_images").get<int64_t>();
        s.epoch_seconds = j.at("epoch_seconds").get<double>();
        s.train_seconds = j.at("train_seconds").get<double>();
        s.eval_seconds = j.at("eval_seconds").get<double>();
        if (j.contains("grad_scale")) {  // absent in checkpoints written before mixed precision
            s.grad_scale = j.at("grad_scale").get<double>();
            s.grad_scale_clean_steps = j.at("grad_scale_clean_steps").get<int64_t>();
        }
        const auto& best = j.at("best_score");
        s.best_score = best.is_number() ? best.get<double>() : -std::numeric_limits<double>::infinity();
        s.best_epoch = j.at("best_epoch").get<int64_t>();
        s.best_step = j.at("best_step").get<int64_t>();
        s.history = LossHistory::from_json(j.at("history"));
        s.epochs = j.at("epochs");
    } catch (const nlohmann::json::exception& e) {
        throw Error(detail::concat("checkpoint ", source, ": malformed training state: ", e.what()));
    }
    ENGINE_CHECK(s.epoch >= 0 && s.batch >= 0 && s.global_step >= 0, "checkpoint ", source,
                 ": malformed training state (negative counters)");
    return s;
}

TrainState read_train_state(const std::string& checkpoint_path, const std::string& app) {
    ENGINE_CHECK(std::filesystem::is_regular_file(checkpoint_path), "--resume ", checkpoint_path,
                 ": no such checkpoint file");
    const checkpoint::Info info = checkpoint::read_info(checkpoint_path);
    const auto it = info.extra.find("train_state");
    ENGINE_CHECK(it != info.extra.end(), "--resume ", checkpoint_path,
                 ": the checkpoint has no training state (not written by ", app, ")");
    nlohmann::json j;
    try {
        j = parse_json(it->second);
    } catch (const nlohmann::json::exception& e) {
        throw Error(detail::concat("checkpoint ", checkpoint_path, ": malformed training state: ", e.what()));
    }
    TrainState state = TrainState::from_json(j, checkpoint_path);
    ENGINE_CHECK(state.app == app, "--resume ", checkpoint_path, ": written by ", state.app, ", not by ", app);
    return state;
}

bool all_finite(const nn::Module& module) { return checkpoint::nonfinite_tensors(module.state_dict()).empty(); }

// ---------------------------------------------------------------- Trainer

Trainer::Trainer(TrainOptions options, models::Model& model, optim::Optimizer& optimizer, TrainingTask& task)
    : options_(std::move(options)),
      model_(model),
      optimizer_(optimizer),
      task_(task),
      stop_(options_.max_steps, options_.time_limit_minutes) {
    state_.app = options_.app;
    state_.seed = options_.seed;
    const std::string& precision = options_.precision;
    ENGINE_CHECK(precision == "fp32" || precision == "tf32" || precision == "bf16" || precision == "fp16",
                 "trainer: unknown precision '", precision, "'");
    if (precision == "bf16") autocast_ = DType::BFloat16;
    if (precision == "fp16") {
        autocast_ = DType::Float16;
        optim::GradScalerOptions scaling;
        if (options_.init_grad_scale > 0) scaling.init_scale = options_.init_grad_scale;
        scaler_.emplace(scaling);
    }
    if (precision == "tf32") tf32_.emplace(&Settings::cuda_allow_tf32, true);
}

std::string Trainer::kept_message() const {
    if (!have_last_) return "no checkpoint was written yet";
    return detail::concat(last_path(), " (epoch ", last_saved_epoch_, ", step ", last_saved_step_, ") is kept");
}

// best.safetensors written at the same moment as last.safetensors holds the same bytes: a hard link to the new
// last (renamed over best, so still atomic) saves writing it twice. last is later replaced by a rename, which
// leaves the linked file untouched.
void Trainer::save_best_as_last() {
    const std::string tmp = best_path() + ".tmp";
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    std::filesystem::create_hard_link(last_path(), tmp, ec);
    if (!ec) std::filesystem::rename(tmp, best_path(), ec);
    if (ec) save_checkpoint(best_path());
}

void Trainer::save_last(bool best) {
    save_checkpoint(last_path());
    have_last_ = true;
    last_saved_epoch_ = state_.epoch;
    last_saved_step_ = state_.global_step;
    if (best) save_best_as_last();
}

void Trainer::save_checkpoint(const std::string& path) {
    if (!all_finite(model_))
        throw NonFiniteError(detail::concat("the model's weights became NaN/Inf by step ", state_.global_step,
                                            " (epoch ", state_.epoch + 1, "); training stopped, ", kept_message(),
                                            "; try a lower --lr"));
    checkpoint::Info info;
    info.extra = options_.metadata;
    info.epoch = state_.epoch;  // completed epochs
    info.step = state_.global_step;
    if (std::isfinite(state_.best_score)) info.best_metric = state_.best_score;
    info.extra["best_metric_name"] = options_.score_name;
    info.extra["precision"] = options_.precision;
    if (scaler_) {
        state_.grad_scale = scaler_->current_scale();
        state_.grad_scale_clean_steps = scaler_->clean_steps();
    }
    info.extra["train_state"] = dump_json(state_.to_json());
    checkpoint::save(path, model_, &optimizer_, info);
}

Evaluation Trainer::evaluate() {
    const auto start = Clock::now();
    model_.eval();
    Evaluation e;
    {
        NoGradGuard no_grad;
        e = task_.evaluate();
        task_.write_pictures(options_.out_dir);
    }
    model_.train();
    state_.eval_seconds += seconds_since(start);
    return e;
}

void Trainer::draw_loss_curve() const {
    const LossHistory& h = state_.history;
    if (h.step_loss.empty()) return;
    std::vector<data::ChartSeries> series;
    series.push_back({"train loss (step)", h.step_loss, {}, std::nullopt});
    std::vector<double> epoch_x;
    for (const auto& record : state_.epochs) epoch_x.push_back(record.at("step").get<double>());
    if (!h.epoch_loss.empty() && epoch_x.size() == h.epoch_loss.size()) {
        series.push_back({"train loss (epoch mean)", h.epoch_loss, epoch_x, std::nullopt});
        series.push_back({"validation loss", h.val_loss, epoch_x, std::nullopt});
    }
    data::ChartOptions chart;
    chart.title = options_.app + " loss";
    chart.x_label = "step";
    chart.y_label = "loss";
    chart.log_y = true;
    data::write_png(options_.out_dir + "/loss.png", data::line_chart(series, chart));
}

void Trainer::write_report(const std::string& status, const std::optional<Evaluation>& final_eval) {
    nlohmann::json best = nullptr;
    if (std::isfinite(state_.best_score))
        best = {{"metric", options_.score_name},
                {"value", state_.best_score},
                {"epoch", state_.best_epoch},
                {"step", state_.best_step}};
    const double images_per_second =
        state_.train_seconds > 0 ? static_cast<double>(state_.global_step * state_.batch_size) / state_.train_seconds
                                 : 0.0;
    nlohmann::json report = {
        {"app", options_.app},
        {"status", status},
        {"config", options_.config},
        {"device", describe_device(options_.device)},
        {"model", parse_json(model_.config().to_json())},
        {"parameters", model_.num_parameters()},
        {"data", options_.data},
        {"epochs", state_.epochs},
        {"final", final_eval ? final_eval->metrics : nlohmann::json(nullptr)},
        {"best", best},
        {"loss", state_.history.to_json()},
        {"timing",
         {{"train_seconds", state_.train_seconds},
          {"eval_seconds", state_.eval_seconds},
          {"steps", state_.global_step},
          {"seconds_per_step",
           state_.global_step ? state_.train_seconds / static_cast<double>(state_.global_step) : 0.0},
          {"images_per_second", images_per_second}}},
        {"checkpoints", {{"last", have_last_ ? nlohmann::json(last_path()) : nlohmann::json(nullptr)},
                         {"best", std::isfinite(state_.best_score) ? nlohmann::json(best_path()) : nullptr}}}};
    write_json(options_.out_dir + "/metrics.json", report);
}

bool Trainer::update_best(const Evaluation& e) {
    if (!std::isfinite(e.score) || e.score <= state_.best_score) return false;
    state_.best_score = e.score;
    state_.best_epoch = state_.epoch + (state_.batch > 0 ? 1 : 0);
    state_.best_step = state_.global_step;
    return true;
}

Trainer::EpochEnd Trainer::train_epoch(int64_t batches) {
    const int64_t epoch = state_.epoch;
    task_.start_epoch(epoch, state_.batch);
    Progress progress(detail::concat("epoch ", epoch + 1, "/", options_.epochs), batches, options_.log_every);
    progress.resume_at(state_.batch);
    const Device device = options_.device;
    try {
        data::Batch b;
        while (true) {
            const auto start = Clock::now();
            if (!task_.next_batch(b)) break;
            if (!device.is_cpu()) {
                b.images = b.images.to(device);
                b.targets = b.targets.to(device);
            }
            // Dropout draws from the default generator: seeding it per step makes a resumed run draw the same.
            manual_seed(mix_seed(state_.seed, kDropoutSalt, static_cast<uint64_t>(state_.global_step)));
            optimizer_.zero_grad();
            Tensor loss;
            {
                const AutocastGuard autocast(autocast_);
                loss = task_.loss(b);
            }
            if (options_.debug_nan_at_step == state_.global_step + 1) loss = mul(loss, std::nan(""));
            const double value = loss.item<double>();
            check_finite(value, "loss", state_.global_step + 1, epoch + 1, state_.batch + 1, batches, kept_message());
            if (scaler_) {
                scaler_->scale(loss).backward();
            } else {
                loss.backward();
            }
            // With loss scaling, gradients are unscaled before clipping; Inf/NaN ones skip the step (the scaler's).
            if (options_.clip_grad_norm > 0 && (!scaler_ || scaler_->unscale(optimizer_))) {
                const double norm = nn::clip_grad_norm_(model_.parameters(), options_.clip_grad_norm);
                check_finite(norm, "gradient norm", state_.global_step + 1, epoch + 1, state_.batch + 1, batches,
                             kept_message());
            }
            if (scaler_) {
                scaler_->step(optimizer_);
            } else {
                optimizer_.step();
            }
            ++state_.global_step;
            ++state_.batch;
            state_.epoch_loss_sum += value;
            state_.epoch_images += b.size();
            state_.history.step_loss.push_back(value);
            const double seconds = seconds_since(start);
            state_.train_seconds += seconds;
            state_.epoch_seconds += seconds;
            progress.update(state_.batch, value, b.size());
            // After the last batch, the epoch finishes (validation, checkpoints) before a stop takes effect.
            if (state_.batch < batches && interrupt_signal() != 0) {
                progress.finish("");
                return EpochEnd::Interrupted;
            }
            if (state_.batch < batches && stop_.reached(state_.global_step)) {
                progress.finish("");
                return EpochEnd::Stopped;
            }
        }
    } catch (...) {
        progress.finish("");
        throw;
    }
    progress.finish("");
    return EpochEnd::Finished;
}

void Trainer::finish_epoch() {
    const int64_t epoch = state_.epoch;
    const double train_loss = state_.batch ? state_.epoch_loss_sum / static_cast<double>(state_.batch) : NAN;
    const double seconds = state_.epoch_seconds;
    const double images_per_second = seconds > 0 ? static_cast<double>(state_.epoch_images) / seconds : 0.0;
    const std::string label = detail::concat("epoch ", epoch + 1, "/", options_.epochs);
    const Evaluation e = evaluate();

    nlohmann::json record = {{"epoch", epoch + 1},
                             {"step", state_.global_step},
                             {"train_loss", json_number(train_loss)},
                             {"val_loss", json_number(e.loss)},
                             {"lr", optimizer_.lr()},
                             {"seconds", seconds},
                             {"images_per_second", images_per_second}};
    record.update(e.metrics);
    state_.epochs.push_back(record);
    state_.history.epoch_loss.push_back(train_loss);
    state_.history.val_loss.push_back(e.loss);

    // The checkpoints describe the state after this epoch: the next run starts at the next epoch's first batch.
    state_.epoch = epoch + 1;
    state_.batch = 0;
    state_.epoch_loss_sum = 0;
    state_.epoch_images = 0;
    state_.epoch_seconds = 0;
    const bool better = update_best(e);  // best_epoch: epoch + 1, as state_ now stands at the next epoch's start
    save_last(better);
    draw_loss_curve();
    write_report("running", e);

    std::printf("%s: train loss %s, val loss %s, %s, %.1f s (%.1f img/s)%s\n", label.c_str(),
                fixed(train_loss).c_str(), fixed(e.loss).c_str(), e.summary.c_str(), seconds, images_per_second,
                better ? " *best" : "");
    if (!e.details.empty()) std::printf("%s", e.details.c_str());
    std::fflush(stdout);
}

int Trainer::finish_interrupted(int64_t batches) {
    const int signal = interrupt_signal();
    // Right after an epoch's checkpoint (or at the resumed one's position) the file already holds this state.
    const bool saved = have_last_ && last_saved_step_ == state_.global_step && last_saved_epoch_ == state_.epoch;
    if (!saved) save_last(false);
    const std::string where = detail::concat("epoch ", state_.epoch + 1, " step ", state_.global_step);
    draw_loss_curve();
    std::optional<Evaluation> final_eval;
    if (!state_.epochs.empty()) {
        Evaluation last;
        last.metrics = state_.epochs.back();
        final_eval = last;
    }
    write_report(detail::concat("interrupted by ", signal_name(signal), " at ", where, " (batch ", state_.batch,
                                " of ", batches, ")"),
                 final_eval);
    std::fflush(stdout);
    std::fprintf(stderr, "interrupted at %s; saved %s; resume with the same command and --resume %s\n",
                 where.c_str(), last_path().c_str(), last_path().c_str());
    std::fflush(stderr);
    return kExitInterrupted;
}

void Trainer::resume() {
    const checkpoint::Info info = checkpoint::load(options_.resume, model_, &optimizer_);
    const auto it = info.extra.find("train_state");
    ENGINE_CHECK(it != info.extra.end(), "--resume ", options_.resume, ": the checkpoint has no training state");
    TrainState resumed = TrainState::from_json(parse_json(it->second), options_.resume);
    ENGINE_CHECK(resumed.app == options_.app, "--resume ", options_.resume, ": written by ", resumed.app, ", not by ",
                 options_.app);
    if (resumed.batch_size != options_.batch_size || resumed.train_samples != options_.train_samples ||
        resumed.seed != options_.seed)
        std::printf(
            "notice: --resume: the checkpoint trained with batch %lld on %lld samples (seed %llu); this "
            "run uses batch %lld on %lld (seed %llu), so the data order differs from an uninterrupted "
            "run\n",
            static_cast<long long>(resumed.batch_size), static_cast<long long>(resumed.train_samples),
            static_cast<unsigned long long>(resumed.seed), static_cast<long long>(options_.batch_size),
            static_cast<long long>(options_.train_samples), static_cast<unsigned long long>(options_.seed));
    resumed.seed = options_.seed;
    resumed.batch_size = options_.batch_size;
    resumed.train_samples = options_.train_samples;
    state_ = resumed;
    if (scaler_ && state_.grad_scale > 0) scaler_->restore(state_.grad_scale, state_.grad_scale_clean_steps);
    std::error_code ec;
    have_last_ = std::filesystem::equivalent(options_.resume, last_path(), ec);
    last_saved_epoch_ = info.epoch;
    last_saved_step_ = info.step;
    if (options_.lr_override) optimizer_.set_lr(*options_.lr_override);
    std::printf("resumed from %s: epoch %lld, batch %lld, step %lld\n", options_.resume.c_str(),
                static_cast<long long>(state_.epoch + 1), static_cast<long long>(state_.batch),
                static_cast<long long>(state_.global_step));
}

Evaluation Trainer::finish_stopped(const std::string& status) {
    const Evaluation e = evaluate();
    const bool better = update_best(e);
    save_last(better);
    draw_loss_curve();
    std::printf("%s: val loss %s, %s%s\n", status.c_str(), fixed(e.loss).c_str(), e.summary.c_str(),
                better ? " *best" : "");
    if (!e.details.empty()) std::printf("%s", e.details.c_str());
    return e;
}

namespace {

// The output folder is created and proved writable before the first step: a read-only --out would otherwise
// surface only when the first checkpoint is written, after a whole epoch.
void check_out_dir_writable(const std::string& out_dir) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    ENGINE_CHECK(!ec, "--out ", out_dir, ": cannot create the folder: ", ec.message());
    const std::string probe = out_dir + "/.write_test";
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    const int err = errno;
    ENGINE_CHECK(f != nullptr, "--out ", out_dir, ": cannot write there: ", std::strerror(err));
    std::fclose(f);
    std::remove(probe.c_str());
}

}  // namespace

int Trainer::run() {
    check_out_dir_writable(options_.out_dir);
    state_.batch_size = options_.batch_size;
    state_.train_samples = options_.train_samples;
    if (!options_.resume.empty()) resume();
    const int64_t batches = task_.batches_per_epoch();
    ENGINE_CHECK(batches > 0, options_.app, ": the training set gives no batch");
    if (state_.batch >= batches) {  // a mid-epoch checkpoint of a run with more batches per epoch
        ++state_.epoch;
        state_.batch = 0;
    }

    model_.train();
    std::optional<Evaluation> final_eval;
    std::string status = "completed";
    const InterruptGuard interrupts;
    try {
        bool stopped = stop_.reached(state_.global_step);
        if (stopped) status = "nothing to do: " + stop_.reason(state_.global_step) + " already reached";
        while (!stopped && state_.epoch < options_.epochs) {
            if (interrupt_signal() != 0) return finish_interrupted(batches);
            const EpochEnd end = train_epoch(batches);
            if (end == EpochEnd::Interrupted) return finish_interrupted(batches);
            if (end == EpochEnd::Stopped) {
                status = detail::concat("stopped by ", stop_.reason(state_.global_step), " at step ",
                                        state_.global_step, " (epoch ", state_.epoch + 1, ", batch ", state_.batch,
                                        " of ", batches, ")");
                final_eval = finish_stopped(status);
                break;
            }
            finish_epoch();
            if (state_.epoch < options_.epochs && stop_.reached(state_.global_step)) {
                stopped = true;
                status = detail::concat("stopped by ", stop_.reason(state_.global_step), " after epoch ",
                                        state_.epoch, " (step ", state_.global_step, ")");
                std::printf("%s\n", status.c_str());
            }
        }
    } catch (const std::exception& e) {
        // The report is best effort here: when it cannot be written either (the same full disk, say), the
        // user must see the error that stopped training, not the report's.
        try {
            write_report(detail::concat("error: ", e.what()), final_eval);
        } catch (const std::exception&) {
        }
        throw;
    }
    if (!final_eval && !state_.epochs.empty()) {
        Evaluation last;
        last.metrics = state_.epochs.back();
        final_eval = last;
    }
    write_report(status, final_eval);
    std::printf("wrote %s/metrics.json, loss.png and the checkpoints (%s%s)\n", options_.out_dir.c_str(),
                have_last_ ? "last.safetensors" : "none",
                std::isfinite(state_.best_score) ? ", best.safetensors" : "");
    std::fflush(stdout);
    return 0;
}

}  // namespace engine::apps
