package dev.bulwark.objects.storage;

/**
 * The options of {@code list()}, as in Workers; null means absent. Keys are ordered by their
 * UTF-8 bytes. {@code start} is inclusive, {@code startAfter} and {@code end} exclusive, and
 * {@code prefix} narrows the range further; {@code limit} counts from the end when
 * {@code reverse} is set.
 */
public record KvListOptions(String start, String startAfter, String end, String prefix,
                            boolean reverse, Integer limit) {

    public static KvListOptions all() {
        return new KvListOptions(null, null, null, null, false, null);
    }
}
