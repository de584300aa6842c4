// Hostile and broken input to the inbound path: every case returns its own
// reason and leaves the SA exactly as it was (the replay window does not move,
// a later valid packet is still accepted). Runs under ASan/UBSan in CI.
#include <gtest/gtest.h>

#include "dataplane/esp/byte_order.hh"
#include "dataplane/esp/checksum.hh"
#include "dataplane/esp/inbound_sa.hh"
#include "dataplane/esp/outbound_sa.hh"
#include "dataplane/esp/test_packets.hh"

namespace traverse::esp {
namespace {

using crypto::Backend;
using crypto::Transform;
using testing::kTestHeadroom;
using testing::TestPacket;

class BadInput : public ::testing::TestWithParam<Transform> {
 protected:
  void SetUp() override {
    config_ = testing::make_sa_config(GetParam(), Backend::ipsec_mb, 4, false, rng_);
    std::string error;
    out_ = OutboundSa::create(config_, &error);
    in_ = InboundSa::create(testing::mirror(config_), &error);
    ASSERT_TRUE(out_ && in_) << error;
  }

  std::vector<uint8_t> encrypt(uint32_t inner_len = 120) {
    inner_ = testing::make_inner_packet(4, inner_len, rng_);
    TestPacket pkt(inner_);
    EXPECT_EQ(out_->encrypt(thread_, pkt.view), Status::ok);
    return pkt.bytes();
  }

  Status decrypt(const std::vector<uint8_t>& wire) {
    TestPacket pkt(wire);
    DecryptResult result;
    return in_->decrypt(thread_, pkt.view, &result);
  }

  // Builds an ESP packet by hand around `plaintext` (inner + padding +
  // trailer, already laid out by the caller), with the SA's keys: lets tests
  // send correctly authenticated packets that break the rules inside.
  std::vector<uint8_t> seal_by_hand(uint32_t seq, std::vector<uint8_t> plaintext) {
    const crypto::TransformInfo info = crypto::transform_info(config_.transform);
    std::string error;
    auto cipher =
        crypto::CipherSession::create(config_.backend, config_.transform,
                                      {config_.cipher_key, config_.salt, config_.auth_key}, &error);
    EXPECT_TRUE(cipher) << error;
    std::vector<uint8_t> esp(8 + info.iv_len);
    store_be32(&esp[0], config_.spi);
    store_be32(&esp[4], seq);
    const std::vector<uint8_t> iv = testing::random_bytes(info.iv_len, rng_);
    std::copy(iv.begin(), iv.end(), esp.begin() + 8);
    std::vector<uint8_t> icv(info.icv_len);
    if (info.aead) {
      cipher->aead_seal(thread_, iv.data(), esp.data(), 8, plaintext.data(),
                        static_cast<uint32_t>(plaintext.size()), icv.data());
      esp.insert(esp.end(), plaintext.begin(), plaintext.end());
    } else {
      cipher->cbc_encrypt(thread_, iv.data(), plaintext.data(),
                          static_cast<uint32_t>(plaintext.size()));
      esp.insert(esp.end(), plaintext.begin(), plaintext.end());
      cipher->hmac(thread_, esp.data(), static_cast<uint32_t>(esp.size()), icv.data(),
                   info.icv_len);
    }
    esp.insert(esp.end(), icv.begin(), icv.end());
    std::vector<uint8_t> wire(20, 0);
    wire[0] = 0x45;
    wire[8] = 64;
    wire[9] = 50;
    std::copy(config_.local.bytes.begin(), config_.local.bytes.begin() + 4, wire.begin() + 12);
    std::copy(config_.remote.bytes.begin(), config_.remote.bytes.begin() + 4, wire.begin() + 16);
    wire.insert(wire.end(), esp.begin(), esp.end());
    testing::fix_outer_lengths(wire);
    return wire;
  }

  // inner + RFC 4303 padding to the block size + pad length + next header.
  std::vector<uint8_t> lay_out(std::vector<uint8_t> inner, uint8_t next_header) {
    const uint32_t block = crypto::transform_info(config_.transform).block_size;
    uint8_t pad = 0;
    while ((inner.size() + 2) % block != 0) {
      inner.push_back(++pad);
    }
    inner.push_back(pad);
    inner.push_back(next_header);
    return inner;
  }

  // The window is where the last good packet left it and still takes new ones.
  void expect_sa_untouched(uint64_t top) {
    EXPECT_EQ(in_->replay_window().top(), top);
    EXPECT_EQ(decrypt(encrypt()), Status::ok) << "a valid packet after the bad one";
  }

  std::mt19937 rng_{77};
  crypto::ThreadContext thread_;
  SaConfig config_;
  std::unique_ptr<OutboundSa> out_;
  std::unique_ptr<InboundSa> in_;
  std::vector<uint8_t> inner_;
};

TEST_P(BadInput, TruncatedAtEveryLength) {
  const std::vector<uint8_t> wire = encrypt();
  ASSERT_EQ(decrypt(encrypt()), Status::ok);  // top = 2; `wire` (seq 1) stays inside the window
  for (size_t len = 0; len < wire.size(); ++len) {
    std::vector<uint8_t> cut(wire.begin(), wire.begin() + static_cast<long>(len));
    const Status raw = decrypt(cut);
    EXPECT_NE(raw, Status::ok) << "raw cut at " << len;
    if (len >= 20) {
      // Make the outer headers agree with the cut, so the ESP layer sees it.
      testing::fix_outer_lengths(cut);
      const Status fixed = decrypt(cut);
      EXPECT_TRUE(fixed == Status::too_short || fixed == Status::bad_length ||
                  fixed == Status::bad_icv)
          << "cut at " << len << ": " << status_name(fixed);
    }
  }
  expect_sa_untouched(2);
}

TEST_P(BadInput, LengthsThatLie) {
  ASSERT_EQ(decrypt(encrypt()), Status::ok);
  std::vector<uint8_t> wire = encrypt();
  std::vector<uint8_t> longer = wire;
  store_be16(&longer[2], static_cast<uint16_t>(wire.size() + 1));  // claims more than arrived
  EXPECT_EQ(decrypt(longer), Status::bad_outer_header);
  std::vector<uint8_t> short_ihl = wire;
  short_ihl[0] = 0x44;
  EXPECT_EQ(decrypt(short_ihl), Status::bad_outer_header);
  std::vector<uint8_t> bad_sum = wire;
  bad_sum[10] ^= 1;
  EXPECT_EQ(decrypt(bad_sum), Status::bad_outer_header);
  std::vector<uint8_t> fragment = wire;
  fragment[6] = 0x20;  // more fragments
  fragment[10] = fragment[11] = 0;
  const uint16_t sum = checksum(fragment.data(), 20);
  memcpy(&fragment[10], &sum, 2);
  EXPECT_EQ(decrypt(fragment), Status::outer_fragment);
  // Link-layer padding after the IP packet is ignored, not decrypted.
  std::vector<uint8_t> padded = wire;
  padded.insert(padded.end(), 6, 0);
  EXPECT_EQ(decrypt(padded), Status::ok);
  expect_sa_untouched(2);
}

TEST_P(BadInput, EveryFlippedBitFailsTheIcvAndMovesNothing) {
  ASSERT_EQ(decrypt(encrypt()), Status::ok);
  const std::vector<uint8_t> wire = encrypt();
  for (size_t byte = 24; byte < wire.size(); ++byte) {  // sequence number onward
    std::vector<uint8_t> bad = wire;
    bad[byte] ^= static_cast<uint8_t>(1u << (byte % 8));
    const Status s = decrypt(bad);
    EXPECT_TRUE(s == Status::bad_icv || s == Status::replay_too_old ||
                s == Status::replay_duplicate)
        << "byte " << byte << ": " << status_name(s);
    ASSERT_EQ(in_->replay_window().top(), 1u) << "byte " << byte;
  }
  std::vector<uint8_t> other_spi = wire;
  other_spi[20] ^= 0x80;
  EXPECT_EQ(decrypt(other_spi), Status::spi_mismatch);
  // The untampered packet still goes through: the failures moved nothing.
  EXPECT_EQ(decrypt(wire), Status::ok);
  EXPECT_EQ(in_->replay_window().top(), 2u);
}

TEST_P(BadInput, WrongPaddingIsRejectedAfterTheIcv) {
  std::vector<uint8_t> plain = lay_out(testing::make_inner_packet(4, 61, rng_), 4);
  const uint8_t pad_len = plain[plain.size() - 2];
  if (pad_len == 0) {
    // No padding bytes to corrupt at this block size; claim too much padding.
    plain[plain.size() - 2] = 200;
  } else {
    plain[plain.size() - 3] ^= 0x55;  // the last padding byte
  }
  EXPECT_EQ(decrypt(seal_by_hand(5, plain)), Status::bad_padding);
  // Authenticated, so the window moved to 5 (RFC 4303: update after the ICV).
  EXPECT_EQ(in_->replay_window().top(), 5u);

  std::vector<uint8_t> too_long = lay_out(testing::make_inner_packet(4, 60, rng_), 4);
  too_long[too_long.size() - 2] = 255;
  EXPECT_EQ(decrypt(seal_by_hand(6, too_long)), Status::bad_padding);
}

// Padding longer than one 16-byte compare (RFC 4303 allows up to 255 bytes):
// accepted when it is 1, 2, 3, ..., refused when any byte, in the first 16
// or past them, is not.
TEST_P(BadInput, LongPaddingCheckedWhole) {
  const uint32_t block = crypto::transform_info(config_.transform).block_size;
  const std::vector<uint8_t> inner = testing::make_inner_packet(4, 60, rng_);
  std::vector<uint8_t> plain = inner;
  uint8_t pad = 0;
  while (pad < 40 || (plain.size() + 2) % block != 0) {
    plain.push_back(++pad);
  }
  plain.push_back(pad);
  plain.push_back(4);
  EXPECT_EQ(decrypt(seal_by_hand(1, plain)), Status::ok);
  uint32_t seq = 2;
  for (uint32_t corrupt : {0u, 15u, 16u, 30u, pad - 1u}) {
    std::vector<uint8_t> bad = plain;
    bad[inner.size() + corrupt] ^= 0x40;
    EXPECT_EQ(decrypt(seal_by_hand(seq++, bad)), Status::bad_padding) << "byte " << corrupt;
  }
}

TEST_P(BadInput, NextHeaderAndInnerPacketChecked) {
  EXPECT_EQ(decrypt(seal_by_hand(1, lay_out(testing::make_inner_packet(4, 60, rng_), 6))),
            Status::unknown_next_header);
  EXPECT_EQ(decrypt(seal_by_hand(2, lay_out(testing::make_inner_packet(4, 60, rng_), 59))),
            Status::dummy);
  // Next header says IPv6, the packet is IPv4.
  EXPECT_EQ(decrypt(seal_by_hand(3, lay_out(testing::make_inner_packet(4, 60, rng_), 41))),
            Status::bad_inner_packet);
  // Inner IPv4 total length longer than what was carried.
  std::vector<uint8_t> inner = testing::make_inner_packet(4, 60, rng_);
  store_be16(&inner[2], 61);
  EXPECT_EQ(decrypt(seal_by_hand(4, lay_out(inner, 4))), Status::bad_inner_packet);
  // Shorter is TFC padding (RFC 4303 section 2.7): accepted, trimmed.
  std::vector<uint8_t> tfc = testing::make_inner_packet(4, 60, rng_);
  const std::vector<uint8_t> extra(33, 0);
  std::vector<uint8_t> padded_inner = tfc;
  padded_inner.insert(padded_inner.end(), extra.begin(), extra.end());
  TestPacket pkt(seal_by_hand(5, lay_out(padded_inner, 4)));
  DecryptResult result;
  ASSERT_EQ(in_->decrypt(thread_, pkt.view, &result), Status::ok);
  EXPECT_EQ(pkt.bytes(), tfc);
}

TEST_P(BadInput, DummyPacketsAreBuiltAndDiscarded) {
  for (uint32_t len : {0u, 1u, 40u, 1300u}) {
    TestPacket pkt(std::vector<uint8_t>(10, 0x77), kTestHeadroom, 1500);
    ASSERT_EQ(out_->encrypt_dummy(thread_, pkt.view, len), Status::ok);
    EXPECT_EQ(pkt.view.length(), len + out_->headroom() + out_->tailroom_for(len));
    DecryptResult result;
    EXPECT_EQ(in_->decrypt(thread_, pkt.view, &result), Status::dummy);
  }
  EXPECT_EQ(in_->replay_window().top(), 4u);
}

TEST_P(BadInput, NoRoomIsReportedAndThePacketIsUnchanged) {
  const std::vector<uint8_t> inner = testing::make_inner_packet(4, 100, rng_);
  TestPacket no_head(inner, out_->headroom() - 1, 64);
  EXPECT_EQ(out_->encrypt(thread_, no_head.view), Status::no_headroom);
  EXPECT_EQ(no_head.bytes(), inner);
  TestPacket no_tail(inner, 128, out_->tailroom_for(100) - 1);
  EXPECT_EQ(out_->encrypt(thread_, no_tail.view), Status::no_tailroom);
  EXPECT_EQ(no_tail.bytes(), inner);
  TestPacket not_ip(std::vector<uint8_t>(50, 0x21));
  EXPECT_EQ(out_->encrypt(thread_, not_ip.view), Status::unsupported_inner);
  EXPECT_EQ(out_->next_sequence(), 1u) << "failures spend no sequence numbers";
}

// Random garbage, and random mutations of a valid packet: never ok, never a
// crash (ASan/UBSan watch the memory), and the SA keeps working.
TEST_P(BadInput, RandomGarbage) {
  const std::vector<uint8_t> wire = encrypt(200);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> junk;
    if (i % 2 == 0) {
      junk = testing::random_bytes(rng_() % 300, rng_);
      if (!junk.empty() && i % 4 == 0) {
        junk[0] = (i % 8 == 0) ? 0x45 : 0x60;
      }
    } else {
      junk = wire;
      // The outer IP header is not covered by the ICV (its TTL or ID may
      // change on the way); mutate the ESP part, which is.
      for (int m = 0; m < 1 + static_cast<int>(rng_() % 4); ++m) {
        junk[20 + rng_() % (junk.size() - 20)] = static_cast<uint8_t>(rng_());
      }
      if (i % 3 == 0) {
        junk.resize(rng_() % (junk.size() + 1));
      }
      if (junk.size() >= 20 && i % 5 != 0) {
        testing::fix_outer_lengths(junk);
      }
    }
    if (junk == wire) {
      continue;
    }
    EXPECT_NE(decrypt(junk), Status::ok) << "iteration " << i;
  }
  EXPECT_EQ(in_->replay_window().top(), 0u);
  EXPECT_EQ(decrypt(wire), Status::ok);
}

INSTANTIATE_TEST_SUITE_P(AllTransforms, BadInput, ::testing::ValuesIn(crypto::kAllTransforms),
                         [](const auto& param_info) {
                           return testing::identifier(param_info.param);
                         });

TEST(SaConfigValidation, ErrorsNameTheProblem) {
  std::mt19937 rng(1);
  SaConfig good = testing::make_sa_config(Transform::aes_cbc_256_hmac_sha256_128, Backend::openssl,
                                          4, false, rng);
  EXPECT_EQ(good.validate(), "");
  SaConfig c = good;
  c.cipher_key.pop_back();
  EXPECT_NE(c.validate().find("32-byte cipher key"), std::string::npos) << c.validate();
  c = good;
  c.auth_key.clear();
  EXPECT_NE(c.validate().find("integrity key"), std::string::npos);
  c = good;
  c.spi = 7;
  EXPECT_NE(c.validate().find("reserved"), std::string::npos);
  c = good;
  c.remote = *IpAddress::parse("2001:db8::2");
  EXPECT_NE(c.validate().find("different IP versions"), std::string::npos);
  c = good;
  c.replay_window = 1u << 20;
  EXPECT_NE(c.validate().find("replay window"), std::string::npos);
  std::string error;
  EXPECT_EQ(OutboundSa::create(c, &error), nullptr);
  EXPECT_NE(error.find("replay window"), std::string::npos);
}

}  // namespace
}  // namespace traverse::esp
