package dev.bulwark.server.node;

import dev.bulwark.server.config.DurableObjectBinding;
import dev.bulwark.server.config.Migration;
import dev.bulwark.server.config.RenamedClass;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Durable object migrations applied to storage: renames, deletes, tags once, and the refusals. */
class MigrationsTest {
    @TempDir
    Path data;
    final List<String> alarmCalls = new ArrayList<>();
    Migrations migrations;

    @org.junit.jupiter.api.BeforeEach
    void setUp() {
        migrations = new Migrations(data, new Migrations.AlarmIndex() {
        @Override
        public void renameClass(String tenant, String worker, String from, String to) {
            alarmCalls.add("rename " + tenant + " " + worker + " " + from + " " + to);
        }

        @Override
        public void transferClass(String tenant, Migrations.ClassRef from, Migrations.ClassRef to) {
            alarmCalls.add("transfer " + tenant + " " + from.worker() + " " + from.className() + " " + to.worker() + " "
                    + to.className());
        }

        @Override
        public void deleteClass(String tenant, String worker, String className) {
            alarmCalls.add("delete " + tenant + " " + worker + " " + className);
        }
        });
    }

    static Migration create(String tag, String... classes) {
        return new Migration(tag, List.of(classes), List.of(), List.of(), List.of());
    }

    static Migration rename(String tag, String from, String to) {
        return new Migration(tag, List.of(), List.of(), List.of(new RenamedClass(from, to)), List.of());
    }

    static Migration delete(String tag, String... classes) {
        return new Migration(tag, List.of(), List.of(), List.of(), List.of(classes));
    }

    static Migration transfer(String tag, String from, String fromScript, String to) {
        return new Migration(tag, List.of(), List.of(), List.of(), List.of(),
                List.of(new dev.bulwark.server.config.TransferredClass(from, fromScript, to)));
    }

    /** The class whose id key a class of worker w uses. */
    String keyClass(String className) {
        Migrations.ClassRef key = migrations.namespace("t", "w", className).key();
        return key.worker() + "/" + key.className();
    }

    static List<DurableObjectBinding> bound(String... classes) {
        List<DurableObjectBinding> out = new ArrayList<>();
        for (String c : classes) out.add(new DurableObjectBinding(c.toUpperCase(java.util.Locale.ROOT), c, null));
        return out;
    }

    Path object(String className, String id) throws Exception {
        Path file = data.resolve("tenants/t/objects/w/" + className + "/" + id + ".sqlite");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "db of " + className);
        return file;
    }

    List<String> apply(List<Migration> list, List<DurableObjectBinding> bindings) {
        return migrations.apply("t", "w", list, bindings, (worker, c) -> false);
    }

    @Test
    void aRenameMovesTheClassStorageAndKeepsItsIdKey() throws Exception {
        object("Counter", "a".repeat(64));
        assertThat(apply(List.of(create("v1", "Counter")), bound("Counter"))).containsExactly("v1");

        List<Migration> list = List.of(create("v1", "Counter"), rename("v2", "Counter", "Tally"));
        assertThat(apply(list, bound("Tally"))).containsExactly("v2");

        assertThat(data.resolve("tenants/t/objects/w/Counter")).doesNotExist();
        assertThat(data.resolve("tenants/t/objects/w/Tally/" + "a".repeat(64) + ".sqlite")).hasContent("db of Counter");
        assertThat(keyClass("Tally")).isEqualTo("w/Counter");
        assertThat(keyClass("Other")).isEqualTo("w/Other");
        assertThat(alarmCalls).containsExactly("rename t w Counter Tally");
        assertThat(migrations.state("t", "w").applied()).containsExactly("v1", "v2");
    }

    @Test
    void aChainOfRenamesKeysByTheFirstName() {
        apply(List.of(create("v1", "A"), rename("v2", "A", "B"), rename("v3", "B", "C")), bound("C"));
        assertThat(keyClass("C")).isEqualTo("w/A");
        assertThat(migrations.state("t", "w").keyClasses()).containsOnlyKeys("C");
    }

    @Test
    void eachTagIsAppliedOnce() throws Exception {
        List<Migration> list = List.of(create("v1", "Counter"), rename("v2", "Counter", "Tally"));
        apply(list, bound("Tally"));
        // Objects made under the old name after the rename (by hand) are not moved again.
        Path later = object("Counter", "b".repeat(64));
        alarmCalls.clear();
        assertThat(apply(list, bound("Tally"))).isEmpty();
        assertThat(later).exists();
        assertThat(alarmCalls).isEmpty();
    }

    @Test
    void aDeleteRemovesOnlyTheNamedClassAndItsAlarms() throws Exception {
        object("Gone", "a".repeat(64));
        Path kept = object("Kept", "b".repeat(64));
        Path unbound = object("Unbound", "c".repeat(64));
        apply(List.of(create("v1", "Gone", "Kept", "Unbound")), bound("Gone", "Kept"));
        assertThat(data.resolve("tenants/t/objects/w/Gone")).exists();

        apply(List.of(create("v1", "Gone", "Kept", "Unbound"), delete("v2", "Gone")), bound("Kept"));

        assertThat(data.resolve("tenants/t/objects/w/Gone")).doesNotExist();
        assertThat(kept).exists();
        assertThat(unbound).as("no longer bound, but no migration deletes it").exists();
        assertThat(alarmCalls).containsExactly("delete t w Gone");
    }

    @Test
    void aClassThatIsStillBoundCannotBeDeletedOrRenamedAway() throws Exception {
        Path file = object("Counter", "a".repeat(64));
        apply(List.of(create("v1", "Counter")), bound("Counter"));

        assertThatThrownBy(() -> apply(List.of(create("v1", "Counter"), delete("v2", "Counter")), bound("Counter")))
                .isInstanceOf(MigrationException.class)
                .hasMessage("worker w: binding COUNTER names class 'Counter', but migration 'v2' deletes it; change or "
                        + "remove the binding");
        assertThatThrownBy(() -> apply(List.of(create("v1", "Counter"), rename("v2", "Counter", "Tally")), bound("Counter")))
                .isInstanceOf(MigrationException.class)
                .hasMessage("worker w: binding COUNTER names class 'Counter', but migration 'v2' renames it to 'Tally'; "
                        + "change or remove the binding");
        assertThat(file).as("a refused migration changes nothing").exists();
        assertThat(migrations.state("t", "w").applied()).containsExactly("v1");
    }

    @Test
    void stepsThatDoNotFitTheClassesBeforeThemAreRefused() {
        assertThatThrownBy(() -> apply(List.of(rename("v1", "Nope", "X")), List.of()))
                .hasMessage("worker w, migration 'v1': renames class 'Nope', which no earlier migration creates");
        assertThatThrownBy(() -> apply(List.of(create("v1", "A", "B"), rename("v2", "A", "B")), bound("B")))
                .hasMessage("worker w, migration 'v2': renames 'A' to 'B', which exists already");
        assertThatThrownBy(() -> apply(List.of(delete("v1", "Nope")), List.of()))
                .hasMessage("worker w, migration 'v1': deletes class 'Nope', which no earlier migration creates");
        assertThatThrownBy(() -> apply(List.of(create("v1", "A"), create("v2", "A")), bound("A")))
                .hasMessage("worker w, migration 'v2': class 'A' exists already");
        assertThat(migrations.state("t", "w").applied()).isEmpty();
    }

    @Test
    void appliedTagsMustStayInTheListAndNewOnesGoAtTheEnd() {
        apply(List.of(create("v1", "A"), create("v2", "B")), bound("A", "B"));
        assertThatThrownBy(() -> apply(List.of(create("v1", "A")), bound("A")))
                .hasMessage("worker w: migration 'v2' was applied on this node but is no longer in the configuration's "
                        + "migrations; applied migrations must stay in the list");
        assertThatThrownBy(() -> apply(List.of(create("v1", "A"), create("v1b", "C"), create("v2", "B")), bound("A", "B")))
                .hasMessage("worker w: migration 'v1b' comes before 'v2', which was applied already; add new migrations at "
                        + "the end of the list");
    }

    @Test
    void aClassWhoseObjectsRunIsNotMoved() throws Exception {
        Path file = object("Counter", "a".repeat(64));
        apply(List.of(create("v1", "Counter")), bound("Counter"));
        assertThatThrownBy(() -> migrations.apply("t", "w", List.of(create("v1", "Counter"), rename("v2", "Counter", "T")),
                bound("T"), (worker, c) -> c.equals("Counter")))
                .hasMessage("worker w: migration 'v2' changes class 'Counter', whose objects are running on this node; apply "
                        + "it when the node starts");
        assertThat(file).exists();
    }

    @Test
    void aRenameOntoStoredObjectsIsRefused() throws Exception {
        object("A", "a".repeat(64));
        object("B", "b".repeat(64));
        assertThatThrownBy(() -> apply(List.of(create("v1", "A"), rename("v2", "A", "B")), bound("B")))
                .hasMessageStartingWith("worker w, migration 'v2': cannot rename 'A' to 'B': ")
                .hasMessageEndingWith(" holds objects already");
        assertThat(migrations.state("t", "w").applied()).containsExactly("v1");
    }

    Path objectOf(String worker, String className, String id) throws Exception {
        Path file = data.resolve("tenants/t/objects/" + worker + "/" + className + "/" + id + ".sqlite");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "db of " + worker + "/" + className);
        return file;
    }

    @Test
    void aTransferMovesAnotherWorkersClassAndKeepsItsIdKey() throws Exception {
        objectOf("old", "Legacy", "a".repeat(64));
        migrations.apply("t", "old", List.of(create("v1", "Legacy")), bound("Legacy"), (worker, c) -> false);

        assertThat(apply(List.of(transfer("v1", "Legacy", "old", "Moved")), bound("Moved"))).containsExactly("v1");

        assertThat(data.resolve("tenants/t/objects/old/Legacy")).doesNotExist();
        assertThat(data.resolve("tenants/t/objects/w/Moved/" + "a".repeat(64) + ".sqlite")).hasContent("db of old/Legacy");
        assertThat(keyClass("Moved")).as("ids made before the transfer keep reaching the objects").isEqualTo("old/Legacy");
        assertThat(alarmCalls).containsExactly("transfer t old Legacy w Moved");
        // A binding to the old worker's class reaches the destination, keyed alike.
        Migrations.Namespace forwarded = migrations.namespace("t", "old", "Legacy");
        assertThat(forwarded.storage()).isEqualTo(new Migrations.ClassRef("w", "Moved"));
        assertThat(forwarded.key()).isEqualTo(new Migrations.ClassRef("old", "Legacy"));
        assertThat(migrations.transferredAway("t", "old", "Legacy")).isTrue();
        assertThat(migrations.transferredAway("t", "w", "Moved")).isFalse();
    }

    @Test
    void aTransferredClassKeepsTheKeyOfItsFirstNameThroughRenamesOnBothSides() throws Exception {
        migrations.apply("t", "old", List.of(create("v1", "A"), rename("v2", "A", "B")), bound("B"), (worker, c) -> false);
        apply(List.of(transfer("v1", "B", "old", "C"), rename("v2", "C", "D")), bound("D"));
        assertThat(keyClass("D")).isEqualTo("old/A");
        assertThat(migrations.namespace("t", "old", "B").storage()).isEqualTo(new Migrations.ClassRef("w", "D"));
    }

    @Test
    void aTransferRunTwiceAfterACrashFindsTheSameKey() throws Exception {
        migrations.apply("t", "old", List.of(create("v1", "A"), rename("v2", "A", "B")), bound("B"), (worker, c) -> false);
        apply(List.of(transfer("v1", "B", "old", "C")), bound("C"));
        // The node died after the source's record was saved and before the destination's: the tag is applied again.
        Files.delete(data.resolve("migrations/t/w.json"));
        apply(List.of(transfer("v1", "B", "old", "C")), bound("C"));
        assertThat(keyClass("C")).isEqualTo("old/A");
    }

    @Test
    void transfersThatDoNotFitAreRefused() throws Exception {
        assertThatThrownBy(() -> apply(List.of(create("v1", "A"), transfer("v2", "X", "w", "B")), bound("A", "B")))
                .hasMessage("worker w, migration 'v2': transfers class 'X' from this worker itself; use renamed_classes to "
                        + "move a class within one worker");
        assertThatThrownBy(() -> apply(List.of(create("v1", "A"), transfer("v2", "X", "old", "A")), bound("A")))
                .hasMessage("worker w, migration 'v2': transfers 'X' of worker old to 'A', which exists already (a transfer "
                        + "creates its destination class)");
        Path running = objectOf("old", "X", "a".repeat(64));
        assertThatThrownBy(() -> migrations.apply("t", "w", List.of(transfer("v1", "X", "old", "Y")), bound("Y"),
                (worker, c) -> worker.equals("old") && c.equals("X")))
                .hasMessage("worker old: migration 'v1' changes class 'X', whose objects are running on this node; apply "
                        + "it when the node starts");
        assertThat(running).exists();
        assertThat(migrations.state("t", "w").applied()).isEmpty();
    }
}
