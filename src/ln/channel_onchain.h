/* The on-chain engine's setup (ln/onchain.h) from a channel (ln/channel.h): its
 * static parameters, our latest commitment with the counterparty's signatures, the
 * secrets the counterparty revealed and the preimages the channel knows. Kept apart
 * from the channel engine so that neither engine depends on the other. */
#ifndef ALIGHT_LN_CHANNEL_ONCHAIN_H
#define ALIGHT_LN_CHANNEL_ONCHAIN_H

#include "ln/channel.h"
#include "ln/onchain.h"

/* Fill `s` for channel `ch` (funded, else AL_E_CHAN_STATE). Arrays come from `a` or
 * point into the channel: `s` is valid until either changes. The destination is the
 * channel's own shutdown script (the wallet script given at its creation, or the one
 * given to al_chan_shutdown); the node may point s->dest at another wallet script. */
AL_WARN_UNUSED al_err al_chan_onchain_setup(const al_chan *ch, al_arena *a, al_onchain_setup *s);

#endif
