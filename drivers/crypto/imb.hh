// Internal: the one place that includes intel-ipsec-mb.h. Its compatibility
// macros (SHA1, SHA256, AES_128_BYTES...) collide with OpenSSL's names, so they
// are switched off before the include. Not for use outside drivers/crypto.
#pragma once

#ifndef NO_COMPAT_IMB_API_053
#define NO_COMPAT_IMB_API_053
#endif
#include <intel-ipsec-mb.h>
