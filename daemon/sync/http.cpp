#include "sync/http.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "common/fd.h"
#include "sync/errors.h"

namespace kb::sync {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What the write callback saw, for mapping CURLE_WRITE_ERROR to a cause.
struct Sink {
  enum class Stop { None, TooLong, Disk, Io };
  std::string* text = nullptr;    ///< fetchText
  int fd = -1;                    ///< download
  std::uint64_t limit = 0;        ///< bytes this transfer may deliver
  std::uint64_t full_length = 0;  ///< the whole file (a restarted download may deliver it all)
  std::uint64_t received = 0;
  bool restart = false;  ///< a Range was asked for but the answer is the whole file
  bool checked_status = false;
  CURL* curl = nullptr;
  Stop stop = Stop::None;
  int err = 0;
};

std::size_t onWrite(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* s = static_cast<Sink*>(user);
  const std::size_t n = size * nmemb;
  if (!s->checked_status && s->fd >= 0) {
    s->checked_status = true;
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200 && s->restart) {  // the Range was ignored: start over
      if (::ftruncate(s->fd, 0) != 0 || ::lseek(s->fd, 0, SEEK_SET) != 0) {
        s->stop = Sink::Stop::Io;
        s->err = errno;
        return 0;
      }
      s->limit = s->full_length;
    }
  }
  if (s->received + n > s->limit) {
    s->stop = Sink::Stop::TooLong;
    return 0;
  }
  if (s->text) {
    s->text->append(data, n);
  } else {
    std::size_t done = 0;
    while (done < n) {
      ssize_t w = ::write(s->fd, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        s->err = w < 0 ? errno : ENOSPC;
        s->stop = s->err == ENOSPC || s->err == EFBIG || s->err == EDQUOT ? Sink::Stop::Disk
                                                                          : Sink::Stop::Io;
        return 0;
      }
      done += static_cast<std::size_t>(w);
    }
  }
  s->received += n;
  return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel->load() ? 1 : 0;  // non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK)
}

CurlPtr makeHandle(const std::string& url, const HttpOptions& o, char* errbuf, Sink& sink) {
  globalInit();
  CurlPtr c(curl_easy_init());
  if (!c) return c;
  CURL* h = c.get();
  sink.curl = h;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o.allow_file ? "https,http,file" : "https,http");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o.low_speed_seconds);
  if (o.total_timeout_s > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT, o.total_timeout_s);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!o.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "kartu-bahagia-sync/1");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  if (o.cancel) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(o.cancel));
  }
  return c;
}

Error mapError(CURLcode rc, CURL* h, const Sink& sink, const std::string& url, const char* errbuf) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  auto err = [&](std::error_code code, const std::string& what) {
    return Error{code, url + ": " + what};
  };
  switch (rc) {
    case CURLE_HTTP_RETURNED_ERROR: {
      long status = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
      return err(SyncErrc::HttpStatus, "HTTP status " + std::to_string(status));
    }
    case CURLE_OPERATION_TIMEDOUT:
      return err(Errc::Timeout, detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return err(SyncErrc::TlsUntrusted, detail);
    case CURLE_SSL_CACERT_BADFILE:
      return err(Errc::Config, "the CA file cannot be used: " + detail);
    case CURLE_FILESIZE_EXCEEDED:
      return err(SyncErrc::LengthMismatch, "longer than the timestamp says");
    case CURLE_WRITE_ERROR:
      if (sink.stop == Sink::Stop::TooLong)
        return err(sink.text ? std::error_code(Errc::TooLarge) : SyncErrc::LengthMismatch,
                   "more than the " + std::to_string(sink.limit) + " bytes expected");
      if (sink.stop == Sink::Stop::Disk)
        return err(Errc::DiskFull, std::string("writing the download: ") + std::strerror(sink.err));
      return err(Errc::Io, std::string("writing the download: ") + std::strerror(sink.err));
    case CURLE_ABORTED_BY_CALLBACK:
      return err(Errc::Io, "the sync was stopped");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return err(Errc::Config, detail);
    default:
      return err(SyncErrc::MirrorUnreachable, detail);
  }
}

}  // namespace

Result<std::string> fetchText(const std::string& url, std::uint64_t max_bytes,
                              const HttpOptions& options) {
  std::string text;
  Sink sink;
  sink.text = &text;
  sink.limit = max_bytes;
  char errbuf[CURL_ERROR_SIZE] = {};
  auto h = makeHandle(url, options, errbuf, sink);
  if (!h) return fail(Errc::Internal, "curl_easy_init failed");
  curl_easy_setopt(h.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
  CURLcode rc = curl_easy_perform(h.get());
  if (rc == CURLE_FILESIZE_EXCEEDED) return fail(Errc::TooLarge, url + ": over the size limit");
  if (rc != CURLE_OK) return std::unexpected(mapError(rc, h.get(), sink, url, errbuf));
  return text;
}

Result<DownloadResult> download(const std::string& url, const std::filesystem::path& part,
                                std::uint64_t length, const HttpOptions& options) {
  UniqueFd f(::open(part.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (f.get() < 0) return fail(Errc::Io, part.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail(Errc::Io, part.string() + ": not a regular file");
  auto have = static_cast<std::uint64_t>(st.st_size);
  if (have > length) {
    if (::ftruncate(f.get(), 0) != 0) return fail(Errc::Io, part.string() + ": cannot truncate");
    have = 0;
  }
  DownloadResult result;
  result.resumed_from = have;
  if (have == length) return result;

  Sink sink;
  sink.fd = f.get();
  sink.limit = length - have;
  sink.full_length = length;
  sink.restart = have > 0;
  char errbuf[CURL_ERROR_SIZE] = {};
  auto h = makeHandle(url, options, errbuf, sink);
  if (!h) return fail(Errc::Internal, "curl_easy_init failed");
  if (have > 0) curl_easy_setopt(h.get(), CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(have));
  CURLcode rc = curl_easy_perform(h.get());
  auto drop = [&] { std::filesystem::remove(part); };
  if (sink.restart && sink.checked_status) {
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) result.resumed_from = 0;
  }
  result.downloaded = sink.received;
  if (rc != CURLE_OK) {
    Error e = mapError(rc, h.get(), sink, url, errbuf);
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    // Bytes that can never become the announced file are not kept to resume.
    if (e.code == SyncErrc::LengthMismatch || status == 416) drop();
    if (status == 416)
      e = Error{SyncErrc::LengthMismatch, url + ": shorter than the timestamp says"};
    return std::unexpected(e);
  }
  if (::fsync(f.get()) != 0) return fail(Errc::Io, part.string() + ": fsync failed");
  const std::uint64_t total = result.resumed_from + result.downloaded;
  if (total != length) {
    drop();
    return fail(SyncErrc::LengthMismatch, url + ": " + std::to_string(total) +
                                              " bytes, the timestamp says " +
                                              std::to_string(length));
  }
  return result;
}

}  // namespace kb::sync
