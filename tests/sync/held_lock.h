#pragma once
// What the import-versus-reader tests need to hold an importer in the middle
// of its work: the importer's flock, taken by the test, and the inode that
// shows when a new cache file has been renamed in.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace kb::sync::testing {

inline ino_t inode(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Holds a file's flock as another importer would, until released or destroyed.
class HeldLock {
 public:
  explicit HeldLock(const std::filesystem::path& p)
      : fd_(::open(p.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644)) {
    held_ = fd_ >= 0 && ::flock(fd_, LOCK_EX) == 0;
  }
  ~HeldLock() { release(); }
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;
  bool held() const { return held_; }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    held_ = false;
  }

 private:
  int fd_;
  bool held_ = false;
};

}  // namespace kb::sync::testing
