// Starts Debian's JMeter 2.13 with XStream permissions for JMeter's own types.
//
// Debian ships JMeter 2.13 with XStream 1.4.20, whose default security
// framework rejects every class it has not been told about, including
// org.apache.jmeter.save.ScriptWrapper: a stock `jmeter -n -t plan.jmx`
// logs a ForbiddenClassException, runs nothing and still exits 0.  No JVM
// flag changes that.  This launcher grants XStream permission for JMeter's
// own packages on SaveService's two XStream instances (test plans and
// result files) and then hands over to JMeter's normal entry point,
// NewDriver.main, with the arguments unchanged.
//
// Built and run by loadtest/jmeter/jmeter.sh; all JMeter jars must be on the
// class path so NewDriver's class loader delegates to the same classes.

import com.thoughtworks.xstream.XStream;
import java.lang.reflect.Field;

public final class PgdJMeterLauncher {
    private static final String[] ALLOWED = {
        "org.apache.jmeter.**",
        "org.apache.jorphan.**",
    };

    private PgdJMeterLauncher() {
    }

    private static void permit(Class<?> saveService, String fieldName) throws Exception {
        Field field = saveService.getDeclaredField(fieldName);
        field.setAccessible(true);
        XStream xstream = (XStream) field.get(null);
        if (xstream == null) {
            throw new IllegalStateException("SaveService." + fieldName + " is null");
        }
        xstream.allowTypesByWildcard(ALLOWED);
    }

    public static void main(String[] args) throws Exception {
        String home = System.getProperty("jmeter.home");
        if (home == null) {
            throw new IllegalStateException("-Djmeter.home is required");
        }
        // SaveService reads saveservice.properties from JMeter's home in its
        // static initialiser, so JMeter's properties must be loaded first.
        org.apache.jmeter.util.JMeterUtils.setJMeterHome(home);
        org.apache.jmeter.util.JMeterUtils.loadJMeterProperties(home + "/bin/jmeter.properties");
        Class<?> saveService = Class.forName("org.apache.jmeter.save.SaveService");
        permit(saveService, "JMXSAVER");
        permit(saveService, "JTLSAVER");
        org.apache.jmeter.NewDriver.main(args);
    }
}
