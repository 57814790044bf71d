#include "reader_supervisor.h"

#include <algorithm>
#include <utility>

namespace kb::reader {

ReaderSupervisor::ReaderSupervisor(Reader& reader, Callback callback, SupervisorOptions options)
    : reader_(reader), callback_(std::move(callback)), options_(options) {}

ReaderSupervisor::~ReaderSupervisor() {
  stop();
}

void ReaderSupervisor::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void ReaderSupervisor::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  reader_.abort();
  thread_.join();
}

bool ReaderSupervisor::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

void ReaderSupervisor::emit(ReaderEvent::Kind kind, std::optional<CardPresence> card,
                            std::string detail, Reader* reader) {
  if (callback_) callback_(ReaderEvent{kind, std::move(card), std::move(detail)}, reader);
}

void ReaderSupervisor::run() {
  enum class State { Closed, Idle, Card };
  State state = State::Closed;
  bool lost_reported = false;
  auto backoff = options_.backoff_start;
  int misses = 0;

  auto stopping = [this] {
    std::lock_guard lock(mutex_);
    return stopping_;
  };
  auto lose = [&](const Error& e) {
    // stop() aborts the reader, which fails the call in flight: that is not a loss.
    if (stopping()) return;
    if (state == State::Card) emit(ReaderEvent::Kind::CardRemoved);
    reader_.close();
    state = State::Closed;
    if (!lost_reported) emit(ReaderEvent::Kind::ReaderLost, std::nullopt, e.message);
    lost_reported = true;
  };

  while (!stopping()) {
    switch (state) {
      case State::Closed: {
        if (auto opened = reader_.open(); opened) {
          if (lost_reported) emit(ReaderEvent::Kind::ReaderBack);
          lost_reported = false;
          backoff = options_.backoff_start;
          state = State::Idle;
        } else {
          if (!lost_reported)
            emit(ReaderEvent::Kind::ReaderLost, std::nullopt, opened.error().message);
          lost_reported = true;
          if (!sleepFor(backoff)) break;
          backoff = std::min(backoff * 2, options_.backoff_max);
        }
        break;
      }
      case State::Idle: {
        auto card = reader_.waitForCard(options_.wait_slice);
        if (!card) {
          lose(card.error());
        } else if (*card) {
          state = State::Card;
          misses = 0;
          emit(ReaderEvent::Kind::CardArrived, **card, {}, &reader_);
        }
        // No card (timeout or abort): the loop re-checks stopping_.
        break;
      }
      case State::Card: {
        auto present = reader_.cardPresent();
        if (!present) {
          lose(present.error());
        } else if (*present) {
          misses = 0;
          sleepFor(options_.presence_interval);
        } else if (++misses >= options_.removal_debounce) {
          state = State::Idle;
          emit(ReaderEvent::Kind::CardRemoved);
        } else {
          sleepFor(options_.miss_recheck);
        }
        break;
      }
    }
  }
  reader_.close();
}

}  // namespace kb::reader
