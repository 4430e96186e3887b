package dev.bulwark.sandbox.jvm;

import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.NoSuchElementException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LibcTest {
    private static final FunctionDescriptor INT_OF_NOTHING = FunctionDescriptor.of(ValueLayout.JAVA_INT);

    @Test
    void aFunctionOfTheCLibraryIsFoundAndCalled() throws Throwable {
        MethodHandle getpid = Libc.find("getpid", INT_OF_NOTHING).orElseThrow();
        assertThat((long) (int) getpid.invokeExact()).isEqualTo(ProcessHandle.current().pid());
        MethodHandle required = Libc.require("getpid", INT_OF_NOTHING);
        assertThat((long) (int) required.invokeExact()).isEqualTo(ProcessHandle.current().pid());
    }

    @Test
    void anAbsentSymbolIsEmptyWhenOptionalAndNamedWhenRequired() {
        assertThat(Libc.find("bulwark_no_such_function", INT_OF_NOTHING)).isEmpty();
        assertThatThrownBy(() -> Libc.require("bulwark_no_such_function", INT_OF_NOTHING))
                .isInstanceOf(NoSuchElementException.class)
                .hasMessageContaining("bulwark_no_such_function");
    }
}
