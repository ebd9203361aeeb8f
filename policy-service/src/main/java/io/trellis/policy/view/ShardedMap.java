package io.trellis.policy.view;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An immutable map that a one-entry change copies little of: the entries are spread over shards by hash, and
 * {@link #with} copies only the shard the key falls in (plus the array of shards), so a snapshot change to one of
 * 10,000 Dataplanes copies tens of entries, not 10,000. Unordered, like {@link HashMap}; no null keys or values.
 * Reads cost one {@link HashMap} lookup.
 */
final class ShardedMap<K, V> extends AbstractMap<K, V> {
  /** Target entries per shard: a change copies about this many. */
  static final int SHARD_SIZE = 32;
  private static final ShardedMap<?, ?> EMPTY = new ShardedMap<Object, Object>(newShards(1), 0);

  /** Never mutated once the map is built; null for an empty shard. */
  private final HashMap<K, V>[] shards;
  private final int size;
  private Set<Entry<K, V>> entrySet;

  private ShardedMap(HashMap<K, V>[] shards, int size) {
    this.shards = shards;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  static <K, V> ShardedMap<K, V> empty() {
    return (ShardedMap<K, V>) EMPTY;
  }

  /** A map with the entries of {@code from} (copied). */
  static <K, V> ShardedMap<K, V> copyOf(Map<K, V> from) {
    if (from instanceof ShardedMap<K, V> sharded) {
      return sharded;
    }
    if (from.isEmpty()) {
      return empty();
    }
    HashMap<K, V>[] shards = newShards(shardsFor(from.size()));
    from.forEach((k, v) -> {
      Objects.requireNonNull(k, "key");
      Objects.requireNonNull(v, "value");
      int i = index(k, shards.length);
      if (shards[i] == null) {
        shards[i] = new HashMap<>();
      }
      shards[i].put(k, v);
    });
    return new ShardedMap<>(shards, from.size());
  }

  /** This map with {@code key} mapped to {@code value}; {@code value} null removes the key. */
  ShardedMap<K, V> with(K key, V value) {
    Objects.requireNonNull(key, "key");
    int i = index(key, shards.length);
    HashMap<K, V> shard = shards[i];
    V current = shard == null ? null : shard.get(key);
    if (value == null ? current == null : value == current) {
      return this;
    }
    int newSize = size + (current == null ? 1 : 0) - (value == null ? 1 : 0);
    if (newSize > shards.length * SHARD_SIZE * 4) {
      // Grown far past the shard count it was built with: re-spread (amortized over the changes that grew it).
      HashMap<K, V> all = new HashMap<>(this);
      all.put(key, value);
      return copyOf(all);
    }
    HashMap<K, V>[] copy = Arrays.copyOf(shards, shards.length);
    HashMap<K, V> changed = shard == null ? new HashMap<>() : new HashMap<>(shard);
    if (value == null) {
      changed.remove(key);
    } else {
      changed.put(key, value);
    }
    copy[i] = changed.isEmpty() ? null : changed;
    return newSize == 0 ? empty() : new ShardedMap<>(copy, newSize);
  }

  @Override
  public V get(Object key) {
    if (key == null) {
      return null;
    }
    HashMap<K, V> shard = shards[index(key, shards.length)];
    return shard == null ? null : shard.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return get(key) != null;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public boolean isEmpty() {
    return size == 0;
  }

  @Override
  public void forEach(BiConsumer<? super K, ? super V> action) {
    for (HashMap<K, V> shard : shards) {
      if (shard != null) {
        shard.forEach(action);
      }
    }
  }

  @Override
  public Set<Entry<K, V>> entrySet() {
    Set<Entry<K, V>> es = entrySet;
    if (es == null) {
      es = new AbstractSet<>() {
        @Override
        public Iterator<Entry<K, V>> iterator() {
          return new Iterator<>() {
            private int next;
            private Iterator<Entry<K, V>> current = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
              while (!current.hasNext() && next < shards.length) {
                HashMap<K, V> shard = shards[next++];
                if (shard != null) {
                  current = Collections.unmodifiableMap(shard).entrySet().iterator();
                }
              }
              return current.hasNext();
            }

            @Override
            public Entry<K, V> next() {
              if (!hasNext()) {
                throw new NoSuchElementException();
              }
              return current.next();
            }
          };
        }

        @Override
        public int size() {
          return size;
        }
      };
      entrySet = es;
    }
    return es;
  }

  /** A power of two giving about {@link #SHARD_SIZE} entries per shard. */
  private static int shardsFor(int size) {
    int wanted = size / SHARD_SIZE;
    return wanted <= 1 ? 1 : Math.min(1 << 16, Integer.highestOneBit(wanted - 1) << 1);
  }

  /**
   * The shard of a key: the top bits of its multiplied hash, so that the low bits each shard's {@link HashMap}
   * spreads its entries by stay varied.
   */
  private static int index(Object key, int shards) {
    return shards == 1 ? 0 : (key.hashCode() * 0x9E3779B9) >>> (32 - Integer.numberOfTrailingZeros(shards));
  }

  @SuppressWarnings("unchecked")
  private static <K, V> HashMap<K, V>[] newShards(int n) {
    return (HashMap<K, V>[]) new HashMap<?, ?>[n];
  }
}
