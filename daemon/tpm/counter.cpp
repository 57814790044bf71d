#include "tpm/counter.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <filesystem>

namespace kb::tpm {
namespace {

struct TctiFree {
  void operator()(TSS2_TCTI_CONTEXT* t) const { Tss2_TctiLdr_Finalize(&t); }
};
struct EsysFree {
  void operator()(ESYS_CONTEXT* e) const { Esys_Finalize(&e); }
};

Error tpmError(std::string_view what, TSS2_RC rc) {
  return Error{Errc::Io, "TPM: " + std::string(what) + ": " + Tss2_RC_Decode(rc)};
}

// A format-zero TPM response code, as the TPM layer returns it.
bool isRc(TSS2_RC rc, TSS2_RC code) {
  return rc == code;
}

}  // namespace

struct Counter::Impl {
  std::unique_ptr<TSS2_TCTI_CONTEXT, TctiFree> tcti;
  std::unique_ptr<ESYS_CONTEXT, EsysFree> esys;
  ESYS_TR nv = ESYS_TR_NONE;

  TSS2_RC increment() {
    return Esys_NV_Increment(esys.get(), nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
  }
};

std::optional<std::string> resolveTcti(const std::string& configured) {
  if (configured == "none") return std::nullopt;
  if (!configured.empty()) return configured;
  std::error_code ec;
  if (std::filesystem::exists("/dev/tpmrm0", ec)) return std::string("device:/dev/tpmrm0");
  return std::nullopt;
}

Counter::Counter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Counter::Counter(Counter&&) noexcept = default;
Counter& Counter::operator=(Counter&&) noexcept = default;
Counter::~Counter() = default;

Result<Counter> Counter::open(const std::string& tcti) {
  auto impl = std::make_unique<Impl>();
  TSS2_TCTI_CONTEXT* t = nullptr;
  if (TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &t); rc != TSS2_RC_SUCCESS)
    return std::unexpected(tpmError("cannot open TCTI " + tcti, rc));
  impl->tcti.reset(t);
  ESYS_CONTEXT* e = nullptr;
  if (TSS2_RC rc = Esys_Initialize(&e, impl->tcti.get(), nullptr); rc != TSS2_RC_SUCCESS)
    return std::unexpected(tpmError("cannot initialise ESAPI", rc));
  impl->esys.reset(e);

  TSS2_RC rc = Esys_TR_FromTPMPublic(impl->esys.get(), kNvIndex, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &impl->nv);
  if (rc != TSS2_RC_SUCCESS) {
    // Not defined yet: a counter the index's own (empty) auth may read and increment.
    TPM2B_AUTH auth{};
    TPM2B_NV_PUBLIC pub{};
    pub.nvPublic.nvIndex = kNvIndex;
    pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
    pub.nvPublic.attributes = static_cast<TPMA_NV>(TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) |
                              TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD | TPMA_NV_OWNERREAD |
                              TPMA_NV_NO_DA;
    pub.nvPublic.dataSize = 8;
    rc = Esys_NV_DefineSpace(impl->esys.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &auth, &pub, &impl->nv);
    if (rc != TSS2_RC_SUCCESS)
      return std::unexpected(tpmError("cannot define the NV counter 0x01500016", rc));
  }
  return Counter(std::move(impl));
}

Result<std::int64_t> Counter::value() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    TPM2B_MAX_NV_BUFFER* data = nullptr;
    TSS2_RC rc = Esys_NV_Read(impl_->esys.get(), impl_->nv, impl_->nv, ESYS_TR_PASSWORD,
                              ESYS_TR_NONE, ESYS_TR_NONE, 8, 0, &data);
    if (rc == TSS2_RC_SUCCESS) {
      std::uint64_t v = 0;
      const UINT16 n = data->size;
      for (UINT16 i = 0; i < n && i < 8; ++i) v = (v << 8) | data->buffer[i];  // big-endian
      Esys_Free(data);
      if (n != 8 || v > static_cast<std::uint64_t>(INT64_MAX))
        return fail(Errc::Io, "TPM: the NV counter has an unexpected size or value");
      return static_cast<std::int64_t>(v);
    }
    // Never written (just defined, possibly by an attacker who undefined ours):
    // the first increment starts it above every counter this TPM ever had.
    if (attempt == 0 && isRc(rc, TPM2_RC_NV_UNINITIALIZED)) {
      if (TSS2_RC irc = impl_->increment(); irc != TSS2_RC_SUCCESS)
        return std::unexpected(tpmError("cannot start the NV counter", irc));
      continue;
    }
    return std::unexpected(tpmError("cannot read the NV counter", rc));
  }
  return fail(Errc::Io, "TPM: cannot read the NV counter");
}

Result<std::int64_t> Counter::raiseTo(std::int64_t serial) {
  auto v = value();
  if (!v) return v;
  if (serial - *v > kMaxStep)
    return fail(Errc::Malformed, "TPM: serial " + std::to_string(serial) + " is more than " +
                                     std::to_string(kMaxStep) + " above the counter (" +
                                     std::to_string(*v) + ")");
  for (std::int64_t c = *v; c < serial; ++c)
    if (TSS2_RC rc = impl_->increment(); rc != TSS2_RC_SUCCESS)
      return std::unexpected(tpmError("cannot increment the NV counter", rc));
  return value();
}

}  // namespace kb::tpm
