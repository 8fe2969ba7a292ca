import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * Calls each URL given with HttpURLConnection, then with java.net.http.HttpClient (its default
 * builder), printing "client status body" per call, or "client error ExceptionName".
 */
public class EgressCalls {
  public static void main(String[] args) throws Exception {
    HttpClient client = HttpClient.newBuilder().build();
    for (String url : args) {
      try {
        HttpURLConnection connection = (HttpURLConnection) new URL(url).openConnection();
        int status = connection.getResponseCode();
        InputStream stream = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
        String body = stream == null ? "" : new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        System.out.println("urlconnection " + status + " " + firstLine(body));
      } catch (Exception error) {
        System.out.println("urlconnection error " + error.getClass().getSimpleName());
      }
      try {
        HttpResponse<String> response =
            client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        System.out.println("httpclient " + response.statusCode() + " " + firstLine(response.body()));
      } catch (Exception error) {
        System.out.println("httpclient error " + error.getClass().getSimpleName());
      }
    }
  }

  private static String firstLine(String text) {
    String line = text.split("\n", 2)[0];
    return line.length() > 40 ? line.substring(0, 40) : line;
  }
}
