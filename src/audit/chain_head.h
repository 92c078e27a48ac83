// The recorded head of the audit chain. A hash chain alone cannot show that its newest
// entries were cut off (the shortened chain is still a valid chain), so every append also
// records "seq:hash" of the new last entry in the settings, and Verify compares the chain's
// end with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace renkei::audit {

// The settings key holding the head.
inline constexpr std::string_view kChainHeadSetting = "audit.chain_head";

struct ChainHead {
  int64_t seq = 0;
  std::string hash;
};

// "seq:hash".
std::string FormatChainHead(int64_t seq, std::string_view hash);
// nullopt when text is not "seq:hash" with a positive seq.
std::optional<ChainHead> ParseChainHead(std::string_view text);

}  // namespace renkei::audit
