#pragma once
/// The membership data model shared by publish (roster → records) and the cache
/// (records → lookups). One CardRecord per card, holding all its coverages.

#include <optional>
#include <string>
#include <vector>

namespace kb::roster {

enum class Profile { Kiosk, Staff };

struct Coverage {
  std::string program;        ///< JKK, JKM, JHT, JP, JKN
  std::string membership_no;  ///< staff profile only; empty on kiosks
  std::string status;         ///< active, inactive, ended
  std::string valid_from;     ///< YYYY-MM-DD, inclusive
  std::string valid_to;       ///< YYYY-MM-DD, inclusive
  std::string funder;
  std::string legal_basis;
  std::string activity;  ///< Kampung Bahagia activity, may be empty
  std::string sk_rt_no;  ///< Ketua RT decree number, may be empty
};

struct CardRecord {
  std::string card_no;
  std::string card_uid;  ///< lower-case hex, empty if not personalised
  std::string status;    ///< active, suspended, lost, revoked
  std::string holder;    ///< masked ("SIT* NUR******") on kiosks, full name for staff
  std::string category;
  std::string occupation;
  std::string kecamatan;
  std::string kelurahan;
  std::string rt;
  // Staff profile only; all empty in the kiosk profile.
  std::string birth_hash;  ///< roster::birthDateHash(nik_key, card_no, birth date); never the date
  std::string nik_hash;    ///< hex HMAC-SHA-256(nik_key, NIK)
  std::string nik_last4;
  std::vector<Coverage> coverages;
};

}  // namespace kb::roster
