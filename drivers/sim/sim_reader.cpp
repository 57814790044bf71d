#include "sim/sim_reader.h"

#include <utility>

#include "reader.h"

namespace kb::reader {

void SimReader::tap(CardImage card) {
  {
    std::lock_guard lock(mu_);
    card_ = std::move(card);
    ++tap_serial_;
  }
  changed_.notify_all();
}

void SimReader::remove() {
  {
    std::lock_guard lock(mu_);
    card_.reset();
  }
  changed_.notify_all();
}

void SimReader::unplug() {
  {
    std::lock_guard lock(mu_);
    plugged_ = false;
  }
  changed_.notify_all();
}

void SimReader::replug() {
  {
    std::lock_guard lock(mu_);
    plugged_ = true;
  }
  changed_.notify_all();
}

std::optional<CardImage> SimReader::current() const {
  std::lock_guard lock(mu_);
  return card_;
}

Result<void> SimReader::usable() const {
  if (!plugged_) return fail(ReaderErrc::ReaderLost, "simulated reader unplugged");
  if (!open_) return fail(ReaderErrc::ReaderLost, "simulated reader not open");
  return {};
}

Result<void> SimReader::open() {
  std::lock_guard lock(mu_);
  if (!plugged_) return fail(ReaderErrc::ReaderLost, "simulated reader unplugged");
  open_ = true;
  abort_ = false;
  return {};
}

void SimReader::close() {
  std::lock_guard lock(mu_);
  open_ = false;
}

void SimReader::abort() {
  {
    std::lock_guard lock(mu_);
    abort_ = true;
  }
  changed_.notify_all();
}

Result<std::optional<CardPresence>> SimReader::waitForCard(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  // A card still lying on the reader from an earlier presence is not a new arrival.
  const bool ready = changed_.wait_for(lock, timeout, [this] {
    return abort_ || !plugged_ || !open_ || (card_ && tap_serial_ != seen_serial_);
  });
  if (abort_) {
    abort_ = false;
    return std::nullopt;  // aborted: no card
  }
  if (auto u = usable(); !u) return std::unexpected(u.error());
  if (!ready) return std::nullopt;  // no card within the wait
  seen_serial_ = tap_serial_;
  return CardPresence{card_->uid, card_->chip, card_->atqa_sak};
}

Result<std::string> SimReader::readPages(int first, int count) {
  std::lock_guard lock(mu_);
  if (auto u = usable(); !u) return std::unexpected(u.error());
  if (!card_ || tap_serial_ != seen_serial_)
    return fail(ReaderErrc::ReadError, "card left the field");
  if (first < 0 || count < 0) return fail(Errc::Usage, "page range out of bounds");
  const auto begin = static_cast<std::size_t>(first) * 4;
  const auto size = static_cast<std::size_t>(count) * 4;
  if (begin + size > card_->pages.size())
    return fail(ReaderErrc::ReadError, "page range beyond the card's memory");
  return card_->pages.substr(begin, size);
}

Result<std::optional<std::string>> SimReader::readSignature() {
  std::lock_guard lock(mu_);
  if (auto u = usable(); !u) return std::unexpected(u.error());
  if (!card_ || tap_serial_ != seen_serial_)
    return fail(ReaderErrc::ReadError, "card left the field");
  return card_->signature;
}

Result<void> SimReader::writePages(int first, std::string_view data) {
  std::lock_guard lock(mu_);
  if (auto u = usable(); !u) return std::unexpected(u.error());
  if (!card_ || tap_serial_ != seen_serial_)
    return fail(ReaderErrc::ReadError, "card left the field");
  if (first < 2 || data.size() % 4 != 0)
    return fail(Errc::Usage, "write needs whole pages from page 2");
  const auto begin = static_cast<std::size_t>(first) * 4;
  if (begin + data.size() > card_->pages.size())
    return fail(ReaderErrc::ReadError, "write beyond the card's memory");
  card_->pages.replace(begin, data.size(), data);
  return {};
}

Result<bool> SimReader::cardPresent() {
  std::lock_guard lock(mu_);
  if (auto u = usable(); !u) return std::unexpected(u.error());
  return card_.has_value() && tap_serial_ == seen_serial_;
}

}  // namespace kb::reader
