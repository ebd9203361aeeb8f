package io.trellis.policy.store;

import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Durable home of every resource. Implementations validate nothing (callers run the api validators first) but
 * enforce identity and optimistic concurrency: each change increments a resource's version, and a write that
 * names a version other than the current one fails with {@link ConflictException}.
 */
public interface ResourceStore extends AutoCloseable {
  /** Expected version meaning "whatever is there": create or overwrite. */
  long ANY_VERSION = -1;
  /** Expected version meaning "must not exist yet". */
  long NEW = 0;

  Optional<Resource> get(ResourceType type, String mesh, String name);

  /**
   * Resources of one type ordered by mesh then name.
   *
   * @param mesh null for every mesh (ignored for Mesh)
   * @param labels every entry must be among the resource's labels; empty = no filter
   */
  Page list(ResourceType type, String mesh, Map<String, String> labels, int offset, int size);

  /** Every resource of every type: what the matching cache loads at start. */
  List<Resource> listAll();

  /**
   * Creates or updates; returns the stored resource with its new version and times.
   *
   * @param expectedVersion {@link #ANY_VERSION}, {@link #NEW} or the version the caller last read
   */
  Resource put(Resource resource, long expectedVersion);

  /**
   * Deletes a resource (a Mesh with everything in it). Returns false when it did not exist.
   *
   * @param expectedVersion {@link #ANY_VERSION} or the version the caller last read
   */
  boolean delete(ResourceType type, String mesh, String name, long expectedVersion);

  /**
   * Calls {@code listener} after every committed change made through this store, in commit order, on the writing
   * thread. The returned handle unsubscribes.
   */
  AutoCloseable watch(Consumer<ChangeEvent> listener);

  /**
   * Whether the store's view is complete: always for a database; for Kubernetes once every informer has listed
   * its kind (readiness stays DOWN until then).
   */
  default boolean synced() {
    return true;
  }

  @Override
  void close();

  /** A slice of a list and the size of the whole list. */
  record Page(List<Resource> items, int total) {}
}
