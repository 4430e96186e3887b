// Optional real-engine check of the prelude: evaluates prelude.js in a snapshot-creating V8
// runtime (Javet, no ICU), creates a startup snapshot, then runs every conformance worker in a
// fresh runtime restored from that snapshot, with a test host (test-host.js + Java crypto).
// Run with ./run.sh; this is a dev tool, not part of the Maven build.
import com.caoccao.javet.interop.*;
import com.caoccao.javet.interop.callback.*;
import com.caoccao.javet.interop.options.*;
import com.caoccao.javet.values.*;
import com.caoccao.javet.values.reference.*;
import com.caoccao.javet.values.primitive.*;
import com.caoccao.javet.enums.*;
import java.nio.file.*;
import java.security.*;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.util.*;

public class V8Check {
  static V8ValueTypedArray bytes(V8Runtime rt, byte[] b) throws Exception {
    V8ValueTypedArray arr = rt.createV8ValueTypedArray(V8ValueReferenceType.Uint8Array, b.length);
    arr.fromBytes(b);
    return arr;
  }
  static void fn(V8Runtime rt, String name, IJavetDirectCallable.NoThisAndResult<Exception> f) throws Exception {
    JavetCallbackContext ctx = new JavetCallbackContext(name, JavetCallbackType.DirectCallNoThisAndResult, f);
    try (V8ValueFunction func = rt.createV8ValueFunction(ctx)) { rt.getGlobalObject().set(name, func); }
  }
  public static void main(String[] args) throws Exception {
    String prelude = Files.readString(Path.of(args[0]));
    Path testsDir = Path.of(args[1]);
    boolean verbose = args.length > 3;
    SecureRandom rnd = new SecureRandom();
    // 1. Snapshot: evaluate the prelude in a snapshot-creating runtime.
    V8RuntimeOptions snapOpts = new V8RuntimeOptions();
    snapOpts.setCreateSnapshotEnabled(true);
    byte[] snapshot;
    try (V8Runtime rt = V8Host.getV8Instance().createV8Runtime(snapOpts)) {
      rt.getExecutor(prelude).setResourceName("prelude.js").executeVoid();
      snapshot = rt.createSnapshot();
    }
    System.out.println("snapshot bytes: " + snapshot.length);
    int passed = 0, failed = 0;
    List<Path> files = new ArrayList<>();
    try (var s = Files.list(testsDir)) { s.filter(p -> p.toString().endsWith(".js")).sorted().forEach(files::add); }
    for (Path file : files) {
      V8RuntimeOptions opts = new V8RuntimeOptions();
      opts.setSnapshotBlob(snapshot);
      try (V8Runtime rt = V8Host.getV8Instance().createV8Runtime(opts)) {
        rt.allowEval(false);
        fn(rt, "__jrandom", a -> { byte[] b = new byte[((V8ValueInteger) a[0]).getValue()]; rnd.nextBytes(b); return bytes(rt, b); });
        fn(rt, "__jdigest", a -> {
          MessageDigest md = MessageDigest.getInstance(((V8ValueString) a[0]).getValue());
          return bytes(rt, md.digest(((V8ValueTypedArray) a[1]).toBytes()));
        });
        fn(rt, "__jhmac", a -> {
          String alg = "Hmac" + ((V8ValueString) a[0]).getValue().replace("-", "");
          Mac mac = Mac.getInstance(alg);
          byte[] key = ((V8ValueTypedArray) a[1]).toBytes();
          mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, alg));
          return bytes(rt, mac.doFinal(((V8ValueTypedArray) a[2]).toBytes()));
        });
        rt.getExecutor(Files.readString(Path.of(args[2]))).setResourceName("test-host.js").executeVoid();
        String name = file.getFileName().toString();
        String result;
        long start = System.currentTimeMillis();
        try (V8Module module = rt.getExecutor(Files.readString(file)).setResourceName(name).setModule(true).compileV8Module()) {
          module.instantiate();
          try (V8Value ev = module.evaluate()) {}
          rt.await();
          if (module.getStatus() == IV8Module.Errored) throw new RuntimeException("module evaluation failed: " + module.getException());
          try (V8ValueObject ns = (V8ValueObject) module.getNamespace(); V8Value handler = ns.get("default"); V8ValueObject test = rt.getGlobalObject().get("__test")) {
            test.invokeVoid("run", handler);
            long deadline = System.currentTimeMillis() + 20000;
            while (true) {
              rt.await();
              if (test.invokeBoolean("done")) break;
              double d = test.invokeDouble("nextTimerDelay");
              if (d < 0) throw new RuntimeException("stalled: no timers and not done");
              if (System.currentTimeMillis() > deadline) throw new RuntimeException("timeout");
              if (d > 0) Thread.sleep((long) Math.ceil(d));
              test.invokeVoid("fireDue");
            }
            result = test.invokeString("result");
            String logs = test.invokeString("logs");
            if (verbose && !logs.isEmpty()) System.out.println(logs);
          }
        } catch (Exception e) {
          result = "EXCEPTION " + e;
        }
        boolean ok = result.contains("\"status\":200") && result.contains("\"body\":\"ok\"") && result.contains("\"end\":true") && result.contains("\"error\":null");
        if (ok) passed++; else failed++;
        System.out.println((ok ? "PASS " : "FAIL ") + name + " (" + (System.currentTimeMillis() - start) + " ms)" + (ok ? "" : "\n  " + result));
      }
    }
    System.out.println(passed + " passed, " + failed + " failed");
  }
}
