package dev.bulwark.sandbox.isolate;

import com.ibm.icu.text.IDNA;

import java.util.EnumSet;
import java.util.Set;

/**
 * The URL Standard's "domain to ASCII" (UTS #46 ToASCII with CheckHyphens = false,
 * CheckBidi = true, CheckJoiners = true, UseSTD3ASCIIRules = beStrict = false,
 * Transitional_Processing = false, VerifyDnsLength = beStrict = false), by ICU4J's UTS #46
 * implementation, for the prelude's URL parser. ICU's mapping and validity data is what the
 * JavaScript side cannot carry in every isolate; here it is loaded once per process.
 */
final class Idna {
    /** Longer inputs are refused before ICU sees them (a URL host is far shorter in practice). */
    static final int MAX_INPUT = 1 << 16;

    private static final IDNA UTS46 = IDNA.getUTS46Instance(IDNA.CHECK_BIDI | IDNA.CHECK_CONTEXTJ
            | IDNA.NONTRANSITIONAL_TO_ASCII | IDNA.NONTRANSITIONAL_TO_UNICODE);

    /** Errors that CheckHyphens = false and VerifyDnsLength = false make irrelevant. */
    private static final Set<IDNA.Error> IGNORED = EnumSet.of(IDNA.Error.EMPTY_LABEL, IDNA.Error.LABEL_TOO_LONG,
            IDNA.Error.DOMAIN_NAME_TOO_LONG, IDNA.Error.LEADING_HYPHEN, IDNA.Error.TRAILING_HYPHEN,
            IDNA.Error.HYPHEN_3_4);

    private Idna() {}

    /** The domain in ASCII, or null where the URL Standard says "failure". */
    static String domainToAscii(String domain) {
        if (domain.length() > MAX_INPUT) return null;
        IDNA.Info info = new IDNA.Info();
        StringBuilder out = new StringBuilder(domain.length() + 16);
        UTS46.nameToASCII(domain, out, info);
        for (IDNA.Error e : info.getErrors()) {
            if (!IGNORED.contains(e)) return null;
        }
        return out.isEmpty() ? null : out.toString();
    }
}
