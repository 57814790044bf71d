#include "libnfc/libnfc_reader.h"

#include <nfc/nfc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "reader.h"

namespace kb::reader {

namespace {

using Clock = std::chrono::steady_clock;

struct ContextDeleter {
  void operator()(nfc_context* c) const noexcept { nfc_exit(c); }
};
struct DeviceDeleter {
  void operator()(nfc_device* d) const noexcept { nfc_close(d); }
};

constexpr nfc_modulation kTypeA{NMT_ISO14443A, NBR_106};
constexpr int kMaxFastReadPages = 60;  // 240 bytes: fits one normal PN53x frame

char ch(unsigned v) {
  return static_cast<char>(static_cast<std::uint8_t>(v));
}
std::uint8_t u8(char c) {
  return static_cast<std::uint8_t>(c);
}

int pageCount(Chip chip) {
  switch (chip) {
    case Chip::Ntag213:
      return 45;
    case Chip::Ntag215:
      return 135;
    case Chip::Ntag216:
      return 231;
    case Chip::Unknown:
      break;
  }
  return 0;
}

// Card-level failures (the card left, refused or garbled) versus the reader itself failing.
bool isCardError(int rc) {
  return rc == NFC_ERFTRANS || rc == NFC_EMFCAUTHFAIL || rc == NFC_ETGRELEASED ||
         rc == NFC_EINVARG || rc == NFC_EOVFLOW;
}

// NTAG21x and MIFARE Ultralight answer anticollision with ATQA 0x0044, SAK 0x00.
bool looksLikeUltralight(const CardPresence& p) {
  return p.atqa_sak.size() == 3 && u8(p.atqa_sak[1]) == 0x44 && u8(p.atqa_sak[2]) == 0x00;
}

}  // namespace

struct LibnfcReader::Impl {
  LibnfcOptions options;
  std::unique_ptr<nfc_context, ContextDeleter> context;
  std::unique_ptr<nfc_device, DeviceDeleter> device;

  // `mu` guards the device pointer against abort() and the watchdog, which run on other threads.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> abort_requested{false};
  std::optional<Clock::time_point> guard_deadline;
  bool guard_fired = false;
  bool stopping = false;
  std::thread watchdog;

  std::optional<CardPresence> card;

  explicit Impl(LibnfcOptions o) : options(std::move(o)) {
    watchdog = std::thread([this] { watch(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    watchdog.join();
  }

  // libnfc waits without limit for the answer to a select (timeout 0); this thread aborts
  // such a call when the reader has stopped answering, so the reader thread never hangs.
  void watch() {
    std::unique_lock lock(mu);
    while (!stopping) {
      if (!guard_deadline) {
        cv.wait(lock);
        continue;
      }
      const auto deadline = *guard_deadline;
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && guard_deadline == deadline) {
        if (device) nfc_abort_command(device.get());
        guard_fired = true;
        guard_deadline.reset();
      }
    }
  }

  class Guard {
   public:
    explicit Guard(Impl& impl) : impl_(impl) {
      {
        std::lock_guard lock(impl_.mu);
        impl_.guard_fired = false;
        impl_.guard_deadline = Clock::now() + impl_.options.call_guard;
      }
      impl_.cv.notify_all();
    }
    ~Guard() {
      std::lock_guard lock(impl_.mu);
      impl_.guard_deadline.reset();
    }
    bool fired() const {
      std::lock_guard lock(impl_.mu);
      return impl_.guard_fired;
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Impl& impl_;
  };

  nfc_device* dev() const { return device.get(); }

  Error deviceError(int rc, std::string_view what) const {
    std::string text = std::string(what) + ": " + (dev() ? nfc_strerror(dev()) : "no device") +
                       " (" + std::to_string(rc) + ")";
    if (isCardError(rc)) return Error{ReaderErrc::ReadError, std::move(text)};
    return Error{ReaderErrc::ReaderLost, std::move(text)};
  }

  // One card command through the PN53x (InDataExchange, CRC by the chip).
  Result<std::string> exchange(std::string_view tx, std::size_t max_rx) {
    if (!dev()) return fail(ReaderErrc::ReaderLost, "reader not open");
    std::array<std::uint8_t, 264> rx{};
    const auto n = std::min(max_rx, rx.size());
    const int rc =
        nfc_initiator_transceive_bytes(dev(), reinterpret_cast<const std::uint8_t*>(tx.data()),
                                       tx.size(), rx.data(), n, options.exchange_timeout_ms);
    if (rc < 0) return std::unexpected(deviceError(rc, "card command"));
    return std::string(reinterpret_cast<const char*>(rx.data()), static_cast<std::size_t>(rc));
  }

  // A single select, bounded: libnfc sends InListPassiveTarget without a timeout, so a PN53x
  // that never ACKs would block forever. A timed command first proves the reader answers;
  // the watchdog then bounds the wait for the select's answer.
  Result<std::optional<nfc_target>> selectOnce(std::string_view uid) {
    if (!dev()) return fail(ReaderErrc::ReaderLost, "reader not open");
    if (int rc = nfc_device_set_property_bool(dev(), NP_ACTIVATE_FIELD, true); rc < 0)
      return std::unexpected(deviceError(rc, "reader check"));
    nfc_target target{};
    Guard guard(*this);
    const int rc = nfc_initiator_select_passive_target(
        dev(), kTypeA, uid.empty() ? nullptr : reinterpret_cast<const std::uint8_t*>(uid.data()),
        uid.size(), &target);
    if (rc > 0) return std::optional<nfc_target>(target);
    if (rc == 0) return std::optional<nfc_target>();
    if (rc == NFC_EOPABORTED && !guard.fired())
      return std::optional<nfc_target>();  // abort(): no card
    if (guard.fired()) return fail(ReaderErrc::ReaderLost, "reader stopped answering a select");
    return std::unexpected(deviceError(rc, "select"));
  }

  // The card in the field, or nullopt if it left before it could be identified.
  Result<std::optional<CardPresence>> identify(const nfc_target& t) {
    CardPresence p;
    const auto& a = t.nti.nai;
    p.uid.assign(reinterpret_cast<const char*>(a.abtUid), a.szUidLen);
    p.atqa_sak = std::string{ch(a.abtAtqa[0]), ch(a.abtAtqa[1]), ch(a.btSak)};
    if (looksLikeUltralight(p)) {
      auto version = exchange(std::string(1, ch(0x60)), 8);  // GET_VERSION
      if (version && version->size() == 8 && u8((*version)[1]) == 0x04 &&
          u8((*version)[2]) == 0x04) {
        switch (u8((*version)[6])) {
          case 0x0F:
            p.chip = Chip::Ntag213;
            break;
          case 0x11:
            p.chip = Chip::Ntag215;
            break;
          case 0x13:
            p.chip = Chip::Ntag216;
            break;
          default:
            break;
        }
      } else if (!version && version.error().code == ReaderErrc::ReaderLost) {
        return std::unexpected(version.error());
      } else if (!version) {
        // Ultralight without GET_VERSION: the failed command sent it back to IDLE.
        auto again = selectOnce(p.uid);
        if (!again) return std::unexpected(again.error());
        if (!*again) return std::nullopt;  // the card left during identification
      }
    }
    return p;
  }
};

LibnfcReader::LibnfcReader(LibnfcOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

LibnfcReader::~LibnfcReader() {
  close();
}

Result<void> LibnfcReader::open() {
  close();
  impl_->abort_requested = false;
  nfc_context* ctx = nullptr;
  nfc_init(&ctx);
  if (!ctx) return fail(Errc::Io, "libnfc initialisation failed");
  impl_->context.reset(ctx);
  const auto& cs = impl_->options.connstring;
  nfc_device* d = nfc_open(ctx, cs.empty() ? nullptr : cs.c_str());
  if (!d)
    return fail(ReaderErrc::ReaderLost,
                "cannot open reader " + (cs.empty() ? std::string("(first found)") : cs));
  {
    std::lock_guard lock(impl_->mu);
    impl_->device.reset(d);
  }
  if (int rc = nfc_initiator_init(d); rc < 0) {
    auto e = impl_->deviceError(rc, "initiator init");
    close();
    return std::unexpected(Error{ReaderErrc::ReaderLost, e.message});
  }
  // One poll per select: an infinite select cannot be bounded and wedges some readers.
  if (int rc = nfc_device_set_property_bool(d, NP_INFINITE_SELECT, false); rc < 0) {
    auto e = impl_->deviceError(rc, "select mode");
    close();
    return std::unexpected(Error{ReaderErrc::ReaderLost, e.message});
  }
  return {};
}

Result<std::optional<CardPresence>> LibnfcReader::waitForCard(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  impl_->card.reset();
  while (true) {
    if (impl_->abort_requested.exchange(false)) return std::nullopt;  // aborted: no card
    auto selected = impl_->selectOnce({});
    if (!selected) return std::unexpected(selected.error());
    if (*selected) {
      auto presence = impl_->identify(**selected);
      if (!presence) return std::unexpected(presence.error());
      if (*presence) {
        impl_->card = **presence;
        return presence;
      }
    }
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;  // no card within the wait
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock,
                       std::min<Clock::duration>(impl_->options.poll_interval, deadline - now),
                       [this] { return impl_->abort_requested.load(); });
  }
}

Result<std::string> LibnfcReader::readPages(int first, int count) {
  if (!impl_->card) return fail(ReaderErrc::ReadError, "no card selected");
  if (first < 0 || count < 0 || first + count > 256)
    return fail(Errc::Usage, "page range out of bounds");
  const Chip chip = impl_->card->chip;
  if (chip != Chip::Unknown && first + count > pageCount(chip))
    return fail(ReaderErrc::ReadError, "page range beyond the chip's memory");
  std::string out;
  int page = first;
  const int end = first + count;
  while (page < end) {
    if (impl_->abort_requested.exchange(false)) return fail(ReaderErrc::ReadError, "read aborted");
    if (chip != Chip::Unknown) {
      const int last = std::min(end, page + kMaxFastReadPages) - 1;
      auto got = impl_->exchange(
          std::string{ch(0x3A), ch(static_cast<unsigned>(page)), ch(static_cast<unsigned>(last))},
          static_cast<std::size_t>(last - page + 1) * 4);
      if (!got) return std::unexpected(got.error());
      if (got->size() != static_cast<std::size_t>(last - page + 1) * 4)
        return fail(ReaderErrc::ReadError, "short FAST_READ answer");
      out += *got;
      page = last + 1;
    } else {
      auto got = impl_->exchange(std::string{ch(0x30), ch(static_cast<unsigned>(page))}, 16);
      if (!got) return std::unexpected(got.error());
      if (got->size() != 16) return fail(ReaderErrc::ReadError, "short READ answer");
      const auto take = static_cast<std::size_t>(std::min(4, end - page)) * 4;
      out += got->substr(0, take);
      page += 4;
    }
  }
  return out;
}

Result<std::optional<std::string>> LibnfcReader::readSignature() {
  if (!impl_->card) return fail(ReaderErrc::ReadError, "no card selected");
  if (impl_->card->chip == Chip::Unknown) return std::optional<std::string>();
  auto sig = impl_->exchange(std::string{ch(0x3C), ch(0x00)}, 32);  // READ_SIG
  if (!sig) return std::unexpected(sig.error());
  if (sig->size() != 32) return fail(ReaderErrc::ReadError, "short READ_SIG answer");
  return std::optional<std::string>(*sig);
}

Result<void> LibnfcReader::writePages(int first, std::string_view data) {
  if (!impl_->card) return fail(ReaderErrc::ReadError, "no card selected");
  if (data.size() % 4 != 0 || first < 0) return fail(Errc::Usage, "write needs whole 4-byte pages");
  for (std::size_t off = 0; off < data.size(); off += 4) {
    const auto page = static_cast<unsigned>(first) + static_cast<unsigned>(off / 4);
    std::string cmd{ch(0xA2), ch(page)};  // WRITE one page
    cmd += data.substr(off, 4);
    auto r = impl_->exchange(cmd, 0);
    if (!r) return std::unexpected(r.error());
  }
  return {};
}

Result<bool> LibnfcReader::cardPresent() {
  if (!impl_->card) return false;
  const auto& uid = impl_->card->uid;
  if (looksLikeUltralight(*impl_->card) && uid.size() == 7) {
    // READ page 0 carries UID0-2 and page 1 UID3-6: the same card answers, not just any card.
    auto head = impl_->exchange(std::string{ch(0x30), ch(0x00)}, 16);
    if (head && head->size() == 16)
      return head->substr(0, 3) == uid.substr(0, 3) && head->substr(4, 4) == uid.substr(3, 4);
    if (!head && head.error().code == ReaderErrc::ReaderLost) return std::unexpected(head.error());
  }
  // The card did not answer (or is not an Ultralight): select it again by its UID.
  auto again = impl_->selectOnce(uid);
  if (!again) return std::unexpected(again.error());
  return again->has_value();
}

void LibnfcReader::abort() {
  impl_->abort_requested = true;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->device) nfc_abort_command(impl_->device.get());
  }
  impl_->cv.notify_all();
}

void LibnfcReader::close() {
  std::unique_ptr<nfc_device, DeviceDeleter> d;
  {
    std::lock_guard lock(impl_->mu);
    d = std::move(impl_->device);
  }
  d.reset();
  impl_->context.reset();
  impl_->card.reset();
}

std::string LibnfcReader::deviceName() const {
  std::lock_guard lock(impl_->mu);
  return impl_->device ? nfc_device_get_name(impl_->device.get()) : std::string();
}

}  // namespace kb::reader
