package dev.bulwark.objects.java;

/** What {@code alarm(...)} is told, as in Workers: the how-many-th retry this run is. */
public record AlarmInfo(int retryCount, boolean isRetry) {}
