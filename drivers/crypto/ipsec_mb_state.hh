// Internal: the intel-ipsec-mb half of a CipherSession. Key schedules are
// computed once, at create(); the per-packet calls take the calling thread's
// manager and neither allocate nor expand keys. One thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "drivers/crypto/cipher_session.hh"
#include "drivers/crypto/imb.hh"

namespace traverse::crypto::internal {

struct IpsecMbState {
  // Keys were validated by CipherSession::create(); fails only when no
  // manager could be set up for the key expansion.
  static std::unique_ptr<IpsecMbState> create(Transform transform, const SessionKeys& keys,
                                              std::string* error);
  ~IpsecMbState();  // wipes every key schedule

  // `iv`: the explicit IV's 8 bytes in memory order (CipherSession::aead_seal).
  void aead_seal(IMB_MGR* mgr, uint64_t iv, const uint8_t* aad, uint32_t aad_len, uint8_t* data,
                 uint32_t len, uint8_t* tag);
  bool aead_open(IMB_MGR* mgr, const uint8_t* iv, const uint8_t* aad, uint32_t aad_len,
                 uint8_t* data, uint32_t len, const uint8_t* tag);
  void cbc(IMB_MGR* mgr, IMB_CIPHER_DIRECTION direction, const uint8_t* iv, uint8_t* data,
           uint32_t len);
  void hmac(IMB_MGR* mgr, const uint8_t* data, uint32_t len, uint8_t* out, uint32_t out_len);
  // The parts of this state a packet's call reads first (at most 2 written
  // to `out`; returns how many).
  uint32_t hot_regions(MemoryRegion* out) const;

  // The first cache line holds what every transform reads per packet, so
  // that hot_region() is one contiguous range per transform.
  alignas(64) Transform transform;
  IMB_KEY_SIZE_BYTES aes_key_size;
  uint8_t salt[4];
  alignas(16) uint8_t chacha_key[32];
  // AES-GCM round keys and GHASH key powers, in the layout of the manager's
  // architecture: init_mb_mgr_auto picks the same one for every manager.
  alignas(64) gcm_key_data gcm_key;
  // AES-CBC: the burst job is filled once with the round keys; a packet sets
  // only its buffer, length and IV. Same for the HMAC job and its pads.
  alignas(16) uint8_t enc_keys[16 * 15];
  alignas(16) uint8_t dec_keys[16 * 15];
  alignas(16) uint8_t ipad_state[32];  // SHA-256 state after (key ^ ipad)
  alignas(16) uint8_t opad_state[32];  // SHA-256 state after (key ^ opad)
  uint8_t empty_mac[32];               // HMAC of no bytes, which the library's jobs refuse
  IMB_JOB cbc_job;
  IMB_JOB hmac_job;
};

}  // namespace traverse::crypto::internal
