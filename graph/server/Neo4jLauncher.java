// Runs Neo4j 5.26 LTS (community) embedded, with the Bolt connector on a loopback address.
// Started by `fraudgraph neo4j start` with the jars that pom.xml resolves from Maven Central;
// it is the project's way to run a real Neo4j on machines with a JDK and no Docker engine.
//
// Usage: java -cp 'lib/*' Neo4jLauncher.java <home-dir> <host> <port> <pagecache> <ready-file>
//        <min-replan-interval-seconds>
// The password of the `neo4j` user is read from the NEO4J_PASSWORD environment variable and
// set on every start, so the server always accepts the credentials from the project settings.

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

public class Neo4jLauncher {
    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        long pagecache = ByteUnit.parse(args[3]);
        Path readyFile = Path.of(args[4]);
        Duration minReplan = Duration.ofSeconds(Long.parseLong(args[5]));
        String password = System.getenv().getOrDefault("NEO4J_PASSWORD", "");
        if (password.length() < 8) {
            System.err.println("NEO4J_PASSWORD must be set and at least 8 characters long");
            System.exit(2);
        }

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pagecache)
                .setConfig(GraphDatabaseSettings.cypher_min_replan_interval, minReplan)
                // Bolt waits 5 s for connections and 5 s for its threads when stopping, also
                // with none open: most of a 10.4 s stop. Whoever stops this server (`neo4j
                // stop`, a bulk load) has closed its own connections first.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time,
                        Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time,
                        Duration.ofSeconds(1))
                .build();

        // Set (or reset) the password on the system database; idempotent across restarts.
        try {
            dbms.database("system").executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                System.err.println("setting the neo4j password failed: " + e.getMessage());
                dbms.shutdown();
                System.exit(1);
            }
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(readyFile);
            } catch (java.io.IOException ignored) {
                // The next start removes a stale ready file itself.
            }
            dbms.shutdown();
            stopped.countDown();
        }));
        // Bolt listens before the password is set; the ready file tells the caller when
        // the configured credentials are accepted.
        Files.writeString(readyFile, Long.toString(ProcessHandle.current().pid()));
        System.out.println("fraudgraph-neo4j ready bolt://" + host + ":" + port);
        System.out.flush();
        stopped.await();
    }
}
