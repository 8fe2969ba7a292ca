import java.sql.*;

/** Drives the recording proxy with pgJDBC: prepared statements that turn server-prepared and binary. */
public class JdbcSession {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/x?sslmode=disable&prepareThreshold=5";
    try (Connection conn = DriverManager.getConnection(url, "app_user", "app-pw")) {
      try (PreparedStatement ps = conn.prepareStatement(
          "select id, name, value, created_at, value::numeric / 3 as third from test_data where value >= ? order by id")) {
        for (int i = 0; i < 8; i++) { // from the 5th execution: named statement, binary results
          ps.setInt(1, 150 + i);
          int rows = 0;
          try (ResultSet rs = ps.executeQuery()) { while (rs.next()) rows++; }
          if (rows != 3 - (i > 0 ? 1 : 0)) throw new AssertionError("rows " + rows + " at " + i);
        }
      }
      conn.setAutoCommit(false);
      try (PreparedStatement ins = conn.prepareStatement("insert into test_data (name, value) values (?, ?)")) {
        for (int i = 0; i < 6; i++) { ins.setString(1, "jdbc" + i); ins.setInt(2, i); ins.executeUpdate(); }
      }
      conn.commit();
      try (Statement st = conn.createStatement()) {
        st.setFetchSize(2); // portal fetched in batches
        int rows = 0;
        try (ResultSet rs = st.executeQuery("select g, md5(g::text) from generate_series(1, 7) g")) {
          while (rs.next()) rows++;
        }
        if (rows != 7) throw new AssertionError("fetch " + rows);
      }
      conn.commit();
      try (Statement st = conn.createStatement()) {
        st.executeQuery("select * from missing_table");
      } catch (SQLException e) {
        if (!"42P01".equals(e.getSQLState())) throw e;
        conn.rollback();
      }
      conn.setAutoCommit(true);
    }
    System.out.println("jdbc ok");
  }
}
