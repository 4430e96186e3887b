package dev.bulwark.objects.java;

/** Which Java object: a tenant's object of a class, by id. Exactly one {@link LiveObject} per key. */
record ObjectKey(String tenant, String className, String id) {}
