#include "pn532_emulator.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

namespace kb::test {

namespace {

using Clock = std::chrono::steady_clock;

// PN532 user manual (UM0701-02) command codes, host to PN532.
enum Cmd : std::uint8_t {
  Diagnose = 0x00,
  GetFirmwareVersion = 0x02,
  GetGeneralStatus = 0x04,
  ReadRegister = 0x06,
  WriteRegister = 0x08,
  ReadGpio = 0x0C,
  WriteGpio = 0x0E,
  SetSerialBaudRate = 0x10,
  SetParameters = 0x12,
  SamConfiguration = 0x14,
  PowerDown = 0x16,
  RfConfiguration = 0x32,
  InDataExchange = 0x40,
  InCommunicateThru = 0x42,
  InDeselect = 0x44,
  InJumpForPsl = 0x46,
  InListPassiveTarget = 0x4A,
  InPsl = 0x4E,
  InAtr = 0x50,
  InRelease = 0x52,
  InSelect = 0x54,
  InJumpForDep = 0x56,
  InAutoPoll = 0x60,
};

// PN532 status codes carried in the first answer byte of In* commands.
constexpr std::uint8_t kStatusOk = 0x00;
constexpr std::uint8_t kStatusTimeout = 0x01;  // the target did not answer
constexpr std::uint8_t kStatusMifareNak = 0x14;
constexpr std::uint8_t kStatusNotAcceptable = 0x27;

// CIU registers libnfc reads and writes (PN532 UM §8.6.23).
constexpr std::uint16_t kRegTxMode = 0x6302;
constexpr std::uint16_t kRegRxMode = 0x6303;
constexpr std::uint16_t kRegControl = 0x633C;
constexpr std::uint16_t kRegBitFraming = 0x633D;

constexpr std::uint8_t kParamAutoRats = 0x10;
constexpr auto kByteTime = std::chrono::nanoseconds(86'806);  // 10 bits at 115200 baud

const std::string kAckFrame("\x00\x00\xff\x00\xff\x00", 6);
const std::string kErrorFrame("\x00\x00\xff\x01\xff\x7f\x81\x00", 8);

char ch(unsigned v) {
  return static_cast<char>(static_cast<std::uint8_t>(v));
}
std::uint8_t u8(char c) {
  return static_cast<std::uint8_t>(c);
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += digits[u8(c) >> 4];
    out += digits[u8(c) & 0x0F];
    out += ' ';
  }
  return out;
}

std::uint16_t crcA(std::string_view data) {
  std::uint32_t crc = 0x6363;
  for (char c : data) {
    std::uint32_t b = u8(c) ^ (crc & 0xFF);
    b = (b ^ (b << 4)) & 0xFF;
    crc = ((crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)) & 0xFFFF;
  }
  return static_cast<std::uint16_t>(crc);
}

std::string withCrc(std::string data) {
  const auto crc = crcA(data);
  data += ch(crc & 0xFF);
  data += ch(crc >> 8);
  return data;
}

// The answer of the card to one command, before the PN532 frames it.
struct CardAnswer {
  enum class Kind { Data, Ack, Nak, Silent } kind = Kind::Silent;
  std::string data;
};

enum class CardState { Idle, Ready, Active, Halt };

bool isNtag(TagKind kind) {
  return ntagPageCount(kind) > 0;
}

std::string atqa(TagKind kind) {  // as the PN532 reports SENS_RES: MSB first
  return isNtag(kind) ? std::string("\x00\x44", 2) : std::string("\x00\x04", 2);
}

std::uint8_t sak(TagKind kind) {
  switch (kind) {
    case TagKind::MifareClassic1k:
      return 0x08;
    case TagKind::Iso14443_4:
      return 0x20;
    default:
      return 0x00;
  }
}

std::uint8_t storageByte(TagKind kind) {
  switch (kind) {
    case TagKind::Ntag213:
      return 0x0F;
    case TagKind::Ntag215:
      return 0x11;
    default:
      return 0x13;
  }
}

// UID as sent in anticollision/select: 4 bytes, or cascade tag 0x88 + 3 + 4 bytes.
std::string cascadedUid(std::string_view uid) {
  if (uid.size() == 7) return std::string(1, ch(0x88)) + std::string(uid);
  return std::string(uid);
}

}  // namespace

struct Pn532Emulator::State {
  struct Reply {
    bool ack = true;
    std::string frame;                   // full response frame; empty = none (yet)
    std::chrono::microseconds delay{0};  // RF time before the answer
    bool sleepAfter = false;
  };
  struct Pending {
    std::uint8_t cmd;
    std::string args;
    std::optional<Clock::time_point> deadline;
  };

  EmulatorOptions options;
  int master = -1;
  int slave = -1;  // kept open so the master never sees a hang-up between host sessions
  int wakeFd = -1;
  std::string path;
  std::thread thread;

  mutable std::mutex mu;
  bool stop = false;
  bool unplugged = false;
  std::optional<EmulatedCard> card;
  CardState cardState = CardState::Idle;
  bool targetSelected = false;
  Fault fault = Fault::None;
  int faultParam = 0;
  EmulatorStats stats;
  std::array<std::uint8_t, 0x10000> regs{};
  std::uint8_t mxRtyPassive = 0xFF;
  std::uint8_t retryTimeoutCode = 0x0A;  // 51.2 ms, the PN532 default
  std::uint8_t parameters = 0;
  std::optional<int> compatWritePage;

  // Touched by the emulator thread only.
  bool asleep = true;  // the PN532 HSU starts in low-VBat mode and needs 0x55 wake-up bytes
  std::string rx;
  std::string lastFrame;
  std::optional<Pending> pending;

  void trace(const char* what, std::string_view bytes) const {
    if (options.trace) std::fprintf(stderr, "pn532-emu %s %s\n", what, hex(bytes).c_str());
  }

  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeFd, &one, sizeof one);
  }

  // ---- wire ----------------------------------------------------------------
  void wireDelay(std::size_t bytes) const {
    if (options.throttle) std::this_thread::sleep_for(kByteTime * static_cast<long>(bytes));
  }

  void send(const std::string& bytes) {
    if (master < 0) return;
    wireDelay(bytes.size());
    trace(">>", bytes);
    std::size_t off = 0;
    while (off < bytes.size()) {
      const auto n = ::write(master, bytes.data() + off, bytes.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      off += static_cast<std::size_t>(n);
    }
    std::lock_guard lock(mu);
    stats.bytesOut += bytes.size();
  }

  static std::string frame(std::uint8_t cmd, std::string_view data) {
    std::string body;
    body += ch(0xD5);
    body += ch(cmd + 1u);
    body += data;
    std::uint32_t sum = 0;
    for (char c : body) sum += u8(c);
    std::string out("\x00\x00\xff", 3);
    const std::size_t n = body.size();
    if (n < 255) {
      out += ch(static_cast<unsigned>(n));
      out += ch(0x100u - static_cast<unsigned>(n));
    } else {
      out += ch(0xFF);
      out += ch(0xFF);
      out += ch(static_cast<unsigned>(n >> 8));
      out += ch(static_cast<unsigned>(n & 0xFF));
      out +=
          ch(0x100u - ((static_cast<unsigned>(n >> 8) + static_cast<unsigned>(n & 0xFF)) & 0xFF));
    }
    out += body;
    out += ch((0x100u - (sum & 0xFF)) & 0xFF);
    out += ch(0x00);
    return out;
  }

  std::chrono::microseconds rfTimeout() const {
    // RFConfiguration item 2: 100 us * 2^(n-1).
    if (retryTimeoutCode == 0) return std::chrono::microseconds(0);
    return std::chrono::microseconds(100L << (std::min<int>(retryTimeoutCode, 16) - 1));
  }

  // ---- card ------------------------------------------------------------------
  int pages() const { return card ? ntagPageCount(card->kind) : 0; }

  std::string readPage(int page) const {
    // PWD and PACK (last two pages) always read as zero on NTAG21x.
    if (page >= pages() - 2) return std::string(4, '\0');
    return card->memory.substr(static_cast<std::size_t>(page) * 4, 4);
  }

  void writePage(int page, std::string_view data) {
    if (fault == Fault::WritesIgnored) return;  // ACKed, not stored
    auto* p = card->memory.data() + static_cast<std::size_t>(page) * 4;
    if (page == 2) {  // static lock bytes are one-time programmable: bits can only be set
      p[2] = ch(u8(p[2]) | u8(data[2]));
      p[3] = ch(u8(p[3]) | u8(data[3]));
    } else if (page == 3) {  // capability container is OTP
      for (std::size_t i = 0; i < 4; ++i) p[i] = ch(u8(p[i]) | u8(data[i]));
    } else {
      std::memcpy(p, data.data(), 4);
    }
  }

  CardAnswer ntagCommand(std::string_view d) {
    const int n = pages();
    const auto op = u8(d[0]);
    const auto arg = [&](std::size_t i) { return d.size() > i ? static_cast<int>(u8(d[i])) : -1; };
    switch (op) {
      case 0x60:  // GET_VERSION
        return {CardAnswer::Kind::Data, std::string("\x00\x04\x04\x02\x01\x00", 6) +
                                            ch(storageByte(card->kind)) + ch(0x03)};
      case 0x30: {  // READ: 4 pages, rolling over to page 0 at the end of memory
        const int a = arg(1);
        if (a < 0 || a >= n) return {CardAnswer::Kind::Nak, {}};
        std::string out;
        for (int i = 0; i < 4; ++i) out += readPage((a + i) % n);
        return {CardAnswer::Kind::Data, out};
      }
      case 0x3A: {  // FAST_READ start..end inclusive
        const int a = arg(1), b = arg(2);
        if (a < 0 || b < a || b >= n) return {CardAnswer::Kind::Nak, {}};
        std::string out;
        for (int p = a; p <= b; ++p) out += readPage(p);
        return {CardAnswer::Kind::Data, out};
      }
      case 0xA2: {  // WRITE one page
        const int a = arg(1);
        if (d.size() != 6 || a < 2 || a >= n) return {CardAnswer::Kind::Nak, {}};
        writePage(a, d.substr(2, 4));
        return {CardAnswer::Kind::Ack, {}};
      }
      case 0xA0: {  // COMPATIBILITY_WRITE: the PN532 sends both parts from one InDataExchange
        const int a = arg(1);
        if (a < 2 || a >= n) return {CardAnswer::Kind::Nak, {}};
        if (d.size() == 18) {
          writePage(a, d.substr(2, 4));
          return {CardAnswer::Kind::Ack, {}};
        }
        if (d.size() == 2) {
          compatWritePage = a;
          return {CardAnswer::Kind::Ack, {}};
        }
        return {CardAnswer::Kind::Nak, {}};
      }
      case 0x3C:  // READ_SIG
        if (arg(1) != 0) return {CardAnswer::Kind::Nak, {}};
        return {CardAnswer::Kind::Data, card->signature};
      case 0x39:  // READ_CNT (NFC counter, address 2 only)
        if (arg(1) != 2) return {CardAnswer::Kind::Nak, {}};
        return {CardAnswer::Kind::Data, std::string(3, '\0')};
      case 0x1B:  // PWD_AUTH against the stored PWD page
        if (d.size() == 5 &&
            d.substr(1, 4) ==
                std::string_view(card->memory).substr(static_cast<std::size_t>(n - 2) * 4, 4))
          return {CardAnswer::Kind::Data,
                  card->memory.substr(static_cast<std::size_t>(n - 1) * 4, 2)};
        return {CardAnswer::Kind::Nak, {}};
      default:
        if (compatWritePage && d.size() == 16) {
          writePage(*compatWritePage, d.substr(0, 4));
          compatWritePage.reset();
          return {CardAnswer::Kind::Ack, {}};
        }
        return {CardAnswer::Kind::Silent, {}};
    }
  }

  CardAnswer cardCommand(std::string_view d) {
    if (d.empty()) return {CardAnswer::Kind::Silent, {}};
    switch (card->kind) {
      case TagKind::MifareClassic1k:
        // Without authentication a MIFARE Classic NAKs READ/WRITE and ignores the rest.
        if (u8(d[0]) == 0x30 || u8(d[0]) == 0xA0) return {CardAnswer::Kind::Nak, {}};
        return {CardAnswer::Kind::Silent, {}};
      case TagKind::Iso14443_4:
        return {CardAnswer::Kind::Data, std::string("\x6D\x00", 2)};  // INS not supported
      default:
        return ntagCommand(d);
    }
  }

  bool isRead(std::string_view d) const {
    return !d.empty() && (u8(d[0]) == 0x30 || u8(d[0]) == 0x3A);
  }

  // True (and consumes one read) unless the configured fault pulls the card now.
  bool survivesRead(std::string_view d) {
    if (fault != Fault::CardGoneAfterReads || !isRead(d)) return true;
    if (faultParam > 0) {
      --faultParam;
      return true;
    }
    card.reset();
    cardState = CardState::Idle;
    targetSelected = false;
    fault = Fault::None;
    return false;
  }

  // ---- PN532 commands --------------------------------------------------------
  std::string targetData() const {
    std::string t;
    t += ch(0x01);  // Tg
    t += atqa(card->kind);
    t += ch(sak(card->kind));
    t += ch(static_cast<unsigned>(card->uid.size()));
    t += card->uid;
    if (card->kind == TagKind::Iso14443_4 && (parameters & kParamAutoRats))
      t += std::string("\x05\x78\x80\x70\x02", 5);  // ATS: TL, T0, TA, TB, TC
    return t;
  }

  bool cardAnswersPoll(std::string_view initiatorData) const {
    if (!card || cardState == CardState::Halt) return false;  // the PN532 polls with REQA
    return initiatorData.empty() || initiatorData == cascadedUid(card->uid);
  }

  std::optional<std::string> listPassive(std::string_view args) {
    if (args.size() < 2 || u8(args[1]) != 0x00)
      return std::string(1, '\0');  // only 106 kbps type A
    if (!cardAnswersPoll(args.substr(2))) return std::nullopt;
    cardState = CardState::Active;
    targetSelected = true;
    return ch(0x01) + targetData();
  }

  std::optional<std::string> autoPoll(std::string_view args) {
    if (!cardAnswersPoll({})) return std::nullopt;
    for (std::size_t i = 2; i < args.size(); ++i) {
      const auto type = u8(args[i]);
      const bool iso4 = card->kind == TagKind::Iso14443_4;
      if (type == 0x00 || type == 0x10 || (type == 0x20 && iso4)) {
        cardState = CardState::Active;
        targetSelected = true;
        const auto data = targetData();
        return std::string(1, ch(0x01)) + ch(type) + ch(static_cast<unsigned>(data.size())) + data;
      }
    }
    return std::nullopt;
  }

  Reply exchange(std::string_view args) {
    Reply r;
    if (args.empty() || u8(args[0]) != 1 || !targetSelected) {
      r.frame = frame(InDataExchange, std::string(1, ch(kStatusNotAcceptable)));
      return r;
    }
    const auto d = args.substr(1);
    if (!card || cardState != CardState::Active || !survivesRead(d)) {
      r.delay = rfTimeout();
      r.frame = frame(InDataExchange, std::string(1, ch(kStatusTimeout)));
      return r;
    }
    const auto a = cardCommand(d);
    std::string out(1, ch(kStatusOk));
    switch (a.kind) {
      case CardAnswer::Kind::Data:
        out += a.data;
        break;
      case CardAnswer::Kind::Ack:
        break;
      case CardAnswer::Kind::Nak:
        cardState = CardState::Idle;  // a NAK sends NTAG21x back to IDLE
        out[0] = ch(kStatusMifareNak);
        break;
      case CardAnswer::Kind::Silent:
        cardState = CardState::Idle;
        r.delay = rfTimeout();
        out[0] = ch(kStatusTimeout);
        break;
    }
    r.frame = frame(InDataExchange, out);
    return r;
  }

  void setRxLastBits(std::uint8_t bits) {
    regs[kRegControl] = static_cast<std::uint8_t>((regs[kRegControl] & ~0x07u) | bits);
  }

  Reply communicateThru(std::string_view d) {
    Reply r;
    const auto timeout = [&] {
      r.delay = rfTimeout();
      r.frame = frame(InCommunicateThru, std::string(1, ch(kStatusTimeout)));
      return r;
    };
    const auto answer = [&](std::string bytes) {
      r.frame = frame(InCommunicateThru, ch(kStatusOk) + bytes);
      return r;
    };
    setRxLastBits(0);
    if ((regs[kRegTxMode] & 0x03) != 0 || !card || d.empty())
      return timeout();  // not type A framing
    const bool crcTx = regs[kRegTxMode] & 0x80;
    const bool crcRx = regs[kRegRxMode] & 0x80;
    const auto cuid = cascadedUid(card->uid);
    const int levels = cuid.size() > 4 ? 2 : 1;

    if ((regs[kRegBitFraming] & 0x07) == 7) {  // short frame: REQA / WUPA
      const auto op = u8(d[0]);
      if (d.size() == 1 && (op == 0x52 || (op == 0x26 && cardState != CardState::Halt))) {
        cardState = CardState::Ready;
        const auto q = atqa(card->kind);
        return answer(std::string{q[1], q[0]});  // LSB first on air
      }
      return timeout();
    }
    const auto sel = u8(d[0]);
    const int level = sel == 0x93 ? 0 : sel == 0x95 ? 1 : -1;
    if (level >= 0 && level < levels && d.size() == 2 && u8(d[1]) == 0x20 &&
        cardState == CardState::Ready) {
      const auto part = cuid.substr(static_cast<std::size_t>(level) * 4, 4);
      return answer(part + ch(u8(part[0]) ^ u8(part[1]) ^ u8(part[2]) ^ u8(part[3])));
    }
    std::string payload(d);
    if (!crcTx) {
      if (payload.size() < 3 || withCrc(payload.substr(0, payload.size() - 2)) != payload)
        return timeout();
      payload.resize(payload.size() - 2);
    }
    if (level >= 0 && level < levels && payload.size() == 7 && u8(payload[1]) == 0x70 &&
        cardState == CardState::Ready) {
      if (payload.substr(2, 4) != cuid.substr(static_cast<std::size_t>(level) * 4, 4))
        return timeout();
      const bool last = level == levels - 1;
      if (last) cardState = CardState::Active;
      std::string s(1, ch(last ? sak(card->kind) : 0x04u));  // 0x04: UID not complete
      return answer(crcRx ? s : withCrc(s));
    }
    if (payload.size() == 2 && u8(payload[0]) == 0x50 && u8(payload[1]) == 0x00) {  // HLTA
      cardState = CardState::Halt;
      return timeout();
    }
    if (cardState != CardState::Active || !survivesRead(payload)) return timeout();
    if (card->kind == TagKind::Iso14443_4 && (u8(payload[0]) & 0xF6) == 0xB2) {  // R(NAK) ping
      std::string ack(1, ch(0xA2u | (u8(payload[0]) & 0x01u)));
      return answer(crcRx ? ack : withCrc(ack));
    }
    const auto a = cardCommand(payload);
    switch (a.kind) {
      case CardAnswer::Kind::Data:
        return answer(crcRx ? a.data : withCrc(a.data));
      case CardAnswer::Kind::Ack:
        setRxLastBits(4);
        return answer(std::string(1, ch(0x0A)));
      case CardAnswer::Kind::Nak:
        cardState = CardState::Idle;
        setRxLastBits(4);
        return answer(std::string(1, '\0'));
      case CardAnswer::Kind::Silent:
        cardState = CardState::Idle;
        return timeout();
    }
    return timeout();
  }

  Reply process(std::string_view cmd) {
    Reply r;
    const auto op = u8(cmd[0]);
    const auto args = cmd.substr(1);
    const auto ok = [&](std::string data = {}) {
      r.frame = frame(op, data);
      return r;
    };
    switch (op) {
      case Diagnose: {
        if (args.empty()) break;
        if (u8(args[0]) == 0x00) return ok(std::string(args));  // communication test: echo
        if (u8(args[0]) == 0x06) {                              // attention request / card presence
          const bool present = card && targetSelected && cardState == CardState::Active;
          return ok(std::string(1, ch(present ? kStatusOk : kStatusTimeout)));
        }
        return ok(std::string(1, '\0'));
      }
      case GetFirmwareVersion:
        return ok(std::string("\x32\x01\x06\x07", 4));  // PN532 v1.6, A+B+DEP
      case GetGeneralStatus: {
        std::string s("\x00\x01", 2);
        if (targetSelected && card) {
          s += std::string("\x01\x01\x00\x00\x10", 5);
        } else {
          s += ch(0x00);
        }
        s += ch(0x00);  // SAM status
        return ok(s);
      }
      case ReadRegister: {
        if (args.size() % 2 != 0) break;
        std::string values;
        for (std::size_t i = 0; i + 1 < args.size(); i += 2)
          values += ch(regs[static_cast<std::size_t>(u8(args[i])) << 8 | u8(args[i + 1])]);
        return ok(values);
      }
      case WriteRegister: {
        if (args.size() % 3 != 0) break;
        for (std::size_t i = 0; i + 2 < args.size(); i += 3)
          regs[static_cast<std::size_t>(u8(args[i])) << 8 | u8(args[i + 1])] = u8(args[i + 2]);
        return ok();
      }
      case ReadGpio:
        return ok(std::string("\x3f\x06\x00", 3));
      case WriteGpio:
      case SetSerialBaudRate:
      case SamConfiguration:
        return ok();
      case SetParameters:
        if (args.empty()) break;
        parameters = u8(args[0]);
        return ok();
      case PowerDown:
        r.sleepAfter = true;
        return ok(std::string(1, ch(kStatusOk)));
      case RfConfiguration: {
        if (args.empty()) break;
        const auto item = u8(args[0]);
        if (item == 0x01 && args.size() >= 2 && (u8(args[1]) & 0x01) == 0) {
          // Field off: the card loses power and forgets HALT/ACTIVE.
          cardState = CardState::Idle;
          targetSelected = false;
        } else if (item == 0x02 && args.size() >= 4) {
          retryTimeoutCode = u8(args[3]);
        } else if (item == 0x05 && args.size() >= 4) {
          mxRtyPassive = u8(args[3]);
        }
        return ok();
      }
      case InDataExchange:
        return exchange(args);
      case InCommunicateThru:
        return communicateThru(args);
      case InDeselect:
      case InRelease:
        if (targetSelected && op == InDeselect) cardState = CardState::Halt;
        if (op == InRelease && cardState == CardState::Active) cardState = CardState::Idle;
        targetSelected = false;
        return ok(std::string(1, ch(kStatusOk)));
      case InSelect:
        if (card && cardState != CardState::Halt) {
          targetSelected = true;
          cardState = CardState::Active;
          return ok(std::string(1, ch(kStatusOk)));
        }
        return ok(std::string(1, ch(kStatusTimeout)));
      case InListPassiveTarget: {
        if (args.size() < 2) break;
        if (auto t = listPassive(args)) return ok(*t);
        // No card: with infinite retries the PN532 keeps polling until one comes or the host
        // aborts.
        std::optional<Clock::time_point> deadline;
        if (mxRtyPassive != 0xFF)
          deadline = Clock::now() + std::chrono::milliseconds(2 * (mxRtyPassive + 1));
        pending = Pending{op, std::string(args), deadline};
        r.frame.clear();
        return r;
      }
      case InAutoPoll: {
        if (args.size() < 3) break;
        if (auto t = autoPoll(args)) return ok(*t);
        std::optional<Clock::time_point> deadline;
        const auto pollNr = u8(args[0]);
        if (pollNr != 0xFF) {
          const auto types = static_cast<long>(args.size() - 2);
          deadline = Clock::now() + std::chrono::milliseconds(150L * u8(args[1]) * pollNr * types);
        }
        pending = Pending{op, std::string(args), deadline};
        r.frame.clear();
        return r;
      }
      case InJumpForDep:
      case InJumpForPsl:
      case InAtr:
      case InPsl:
        r.delay = rfTimeout();
        return ok(std::string(1, ch(kStatusTimeout)));
      default:
        break;
    }
    // Unknown command or bad parameters: the PN532 answers with a syntax error frame.
    r.frame = kErrorFrame;
    return r;
  }

  // Completes a deferred poll if a card came or its time ran out; returns the frame to send.
  std::optional<std::string> servicePending() {
    std::lock_guard lock(mu);
    if (!pending) return std::nullopt;
    std::optional<std::string> t =
        pending->cmd == InListPassiveTarget ? listPassive(pending->args) : autoPoll(pending->args);
    if (!t && pending->deadline && Clock::now() >= *pending->deadline) t = std::string(1, '\0');
    if (!t) return std::nullopt;
    const auto cmd = pending->cmd;
    pending.reset();
    return frame(cmd, *t);
  }

  void handleFrame(std::string_view body, std::size_t wireBytes) {
    wireDelay(wireBytes);
    trace("<<", body);
    Reply r;
    Fault f;
    int param;
    bool mute;
    {
      std::lock_guard lock(mu);
      ++stats.frames;
      pending.reset();  // a new command supersedes a poll still running
      f = fault;
      param = faultParam;
      if (f == Fault::Silent) return;
      mute = f == Fault::NoResponse && (param == 0 || param == u8(body[1]));
      if (!mute) r = process(body.substr(1));
    }
    send(kAckFrame);
    if (mute) return;
    if (f == Fault::Garbage) {
      send(std::string("\xa5\x5a\x13\x37\xff\x00\x42", 7));
      return;
    }
    if (r.delay.count() > 0) std::this_thread::sleep_for(r.delay);
    if (!r.frame.empty()) {
      lastFrame = r.frame;
      send(r.frame);
    }
    if (r.sleepAfter) asleep = true;
  }

  // Splits the receive buffer into host frames (ACK, NACK, normal, extended).
  void parse() {
    while (true) {
      std::size_t i = 0;
      while (i + 1 < rx.size() && !(rx[i] == '\0' && u8(rx[i + 1]) == 0xFF)) ++i;
      if (rx.substr(0, i).find(ch(0x55)) != std::string::npos) asleep = false;  // HSU wake-up
      rx.erase(0, i);
      if (rx.size() < 4) return;
      const auto len = u8(rx[2]);
      const auto lcs = u8(rx[3]);
      if (len == 0x00 && lcs == 0xFF) {  // ACK from the host aborts the running command
        rx.erase(0, rx.size() > 4 && rx[4] == '\0' ? 5 : 4);
        std::lock_guard lock(mu);
        if (pending) trace("abort", {});
        pending.reset();
        continue;
      }
      if (len == 0xFF && lcs == 0x00) {  // NACK: send the last answer again
        rx.erase(0, rx.size() > 4 && rx[4] == '\0' ? 5 : 4);
        if (!lastFrame.empty()) send(lastFrame);
        continue;
      }
      std::size_t start, n;
      if (len == 0xFF && lcs == 0xFF) {
        if (rx.size() < 7) return;
        if (((u8(rx[4]) + u8(rx[5]) + u8(rx[6])) & 0xFF) != 0) {
          rx.erase(0, 1);
          continue;
        }
        n = static_cast<std::size_t>(u8(rx[4])) << 8 | u8(rx[5]);
        start = 7;
      } else {
        if (((len + lcs) & 0xFF) != 0) {
          rx.erase(0, 1);
          continue;
        }
        n = len;
        start = 4;
      }
      if (rx.size() < start + n + 2) return;
      const std::string body = rx.substr(start, n);
      std::uint32_t sum = u8(rx[start + n]);
      for (char c : body) sum += u8(c);
      const auto total = start + n + 2 + 1;  // + preamble byte counted for wire time
      rx.erase(0, start + n + 2);
      if ((sum & 0xFF) != 0 || body.empty() || u8(body[0]) != 0xD4) {
        trace("bad frame", body);
        continue;
      }
      if (asleep) {
        trace("asleep, dropped", body);
        continue;
      }
      handleFrame(body, total);
    }
  }

  void run() {
    std::array<char, 4096> buf{};
    while (true) {
      {
        std::lock_guard lock(mu);
        if (stop || unplugged) break;
      }
      pollfd fds[2] = {{master, POLLIN, 0}, {wakeFd, POLLIN, 0}};
      const int timeoutMs = pending ? 2 : 200;
      const int n = ::poll(fds, 2, timeoutMs);
      if (n < 0 && errno != EINTR) break;
      if (fds[1].revents & POLLIN) {
        std::uint64_t v;
        [[maybe_unused]] auto r = ::read(wakeFd, &v, sizeof v);
      }
      if (fds[0].revents & POLLIN) {
        const auto got = ::read(master, buf.data(), buf.size());
        if (got > 0) {
          {
            std::lock_guard lock(mu);
            stats.bytesIn += static_cast<std::uint64_t>(got);
          }
          rx.append(buf.data(), static_cast<std::size_t>(got));
          parse();
        }
      } else if (fds[0].revents & (POLLHUP | POLLERR)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (auto f = servicePending()) {
        lastFrame = *f;
        send(*f);
      }
    }
    std::lock_guard lock(mu);
    if (unplugged) closeTty();
  }

  void closeTty() {
    if (master >= 0) ::close(master);
    if (slave >= 0) ::close(slave);
    master = slave = -1;
  }
};

Pn532Emulator::Pn532Emulator(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<Pn532Emulator>> Pn532Emulator::start(EmulatorOptions options) {
  auto s = std::make_unique<State>();
  s->options = options;
  s->regs[kRegTxMode] = 0x80;  // CRC on: libnfc assumes the chip handles CRC after power-up
  s->regs[kRegRxMode] = 0x80;
  s->master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s->master < 0) return fail(Errc::Io, std::string("posix_openpt: ") + std::strerror(errno));
  if (::grantpt(s->master) != 0 || ::unlockpt(s->master) != 0) {
    ::close(s->master);
    return fail(Errc::Io, std::string("grantpt/unlockpt: ") + std::strerror(errno));
  }
  std::array<char, 128> name{};
  if (::ptsname_r(s->master, name.data(), name.size()) != 0) {
    ::close(s->master);
    return fail(Errc::Io, "ptsname failed");
  }
  s->path = name.data();
  s->slave = ::open(s->path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s->slave >= 0) {
    termios t{};
    if (::tcgetattr(s->slave, &t) == 0) {
      ::cfmakeraw(&t);
      ::tcsetattr(s->slave, TCSANOW, &t);
    }
  }
  s->wakeFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->slave < 0 || s->wakeFd < 0) {
    s->closeTty();
    if (s->wakeFd >= 0) ::close(s->wakeFd);
    return fail(Errc::Io, "cannot set up the pty");
  }
  auto* raw = s.get();
  s->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<Pn532Emulator>(new Pn532Emulator(std::move(s)));
}

Pn532Emulator::~Pn532Emulator() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->wake();
  if (state_->thread.joinable()) state_->thread.join();
  state_->closeTty();
  ::close(state_->wakeFd);
}

const std::string& Pn532Emulator::path() const {
  return state_->path;
}
std::string Pn532Emulator::connstring() const {
  return "pn532_uart:" + state_->path;
}

void Pn532Emulator::insert(EmulatedCard card) {
  if (isNtag(card.kind)) {
    const auto size = static_cast<std::size_t>(ntagPageCount(card.kind)) * 4;
    if (card.memory.empty()) {
      if (card.uid.size() != 7) card.uid = std::string("\x04\xa1\xb2\xc3\xd4\xe5\xf6", 7);
      card.memory = blankNtagImage(card.kind, card.uid);
    }
    card.memory.resize(size, '\0');
    if (card.uid.size() == 7) {
      setImageUid(card.memory, card.uid);
    } else {
      card.uid = card.memory.substr(0, 3) + card.memory.substr(4, 4);
    }
  } else if (card.uid.empty()) {
    card.uid = card.kind == TagKind::Iso14443_4 ? std::string("\x08\x1a\x2b\x3c", 4)
                                                : std::string("\xde\xad\xbe\xef", 4);
  }
  card.signature.resize(32, '\0');
  {
    std::lock_guard lock(state_->mu);
    state_->card = std::move(card);
    state_->cardState = CardState::Idle;
    state_->targetSelected = false;
  }
  state_->wake();
}

void Pn532Emulator::remove() {
  std::lock_guard lock(state_->mu);
  state_->card.reset();
  state_->cardState = CardState::Idle;
  state_->targetSelected = false;
}

bool Pn532Emulator::cardPresent() const {
  std::lock_guard lock(state_->mu);
  return state_->card.has_value();
}

std::optional<std::string> Pn532Emulator::cardMemory() const {
  std::lock_guard lock(state_->mu);
  if (!state_->card) return std::nullopt;
  return state_->card->memory;
}

void Pn532Emulator::setFault(Fault fault, int param) {
  std::lock_guard lock(state_->mu);
  state_->fault = fault;
  state_->faultParam = param;
}

void Pn532Emulator::unplug() {
  {
    std::lock_guard lock(state_->mu);
    state_->unplugged = true;
  }
  state_->wake();
  if (state_->thread.joinable() && state_->thread.get_id() != std::this_thread::get_id())
    state_->thread.join();
}

EmulatorStats Pn532Emulator::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

}  // namespace kb::test
