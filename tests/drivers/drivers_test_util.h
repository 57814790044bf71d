#pragma once
// Shared helpers for the driver tests: card images, temp dirs, an event recorder.

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "pn532_emulator.h"
#include "reader_supervisor.h"

namespace kb::test {

inline const std::string kUid("\x04\x11\x22\x33\x44\x55\x66", 7);

inline std::string testSignature() {
  std::string sig;
  for (int i = 0; i < 32; ++i) sig += static_cast<char>(0xA0 + i);
  return sig;
}

// A recognisable image: user pages filled with a page-number pattern, PWD zeroed so a
// full dump (where PWD/PACK read as zero) compares byte for byte.
inline std::string patternImage(TagKind kind, const std::string& uid = kUid) {
  auto image = blankNtagImage(kind, uid);
  const int pages = ntagPageCount(kind);
  for (int p = 5; p < pages - 5; ++p)
    for (int b = 0; b < 4; ++b)
      image[static_cast<std::size_t>(p * 4 + b)] = static_cast<char>((p * 7 + b) & 0xFF);
  for (std::size_t i = static_cast<std::size_t>(pages - 2) * 4; i < image.size(); ++i)
    image[i] = '\0';
  return image;
}

inline EmulatedCard ntag(TagKind kind = TagKind::Ntag213, const std::string& uid = kUid) {
  return EmulatedCard{kind, uid, patternImage(kind, uid), testSignature()};
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kb-drivers-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Collects supervisor events; tests wait for a kind with a generous bound (hang detector only).
class EventLog {
 public:
  void push(const reader::ReaderEvent& e) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    }
    cv_.notify_all();
  }
  bool waitFor(reader::ReaderEvent::Kind kind, std::size_t occurrence = 1,
               std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return count(kind) >= occurrence; });
  }
  std::size_t countOf(reader::ReaderEvent::Kind kind) const {
    std::lock_guard lock(mu_);
    return count(kind);
  }
  std::vector<reader::ReaderEvent> all() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::size_t count(reader::ReaderEvent::Kind kind) const {
    std::size_t n = 0;
    for (const auto& e : events_) n += e.kind == kind ? 1 : 0;
    return n;
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<reader::ReaderEvent> events_;
};

}  // namespace kb::test
