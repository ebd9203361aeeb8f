package io.trellis.policy.view;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShardedMapTest {

  @ParameterizedTest(name = "{0} entries at first")
  @ValueSource(ints = {0, 1, 40, 2000})
  void behavesLikeAHashMapAndEveryVersionStaysAsItWas(int initial) {
    Random random = new Random(initial);
    Map<Integer, String> expected = new HashMap<>();
    for (int i = 0; i < initial; i++) {
      expected.put(i, "v" + i);
    }
    ShardedMap<Integer, String> map = ShardedMap.copyOf(expected);
    // Grows well past the shard count it was built with (re-spread), then shrinks to nothing.
    for (int step = 0; step < 6000; step++) {
      int key = random.nextInt(step < 4000 ? 3000 : 3000 - (step - 4000));
      String value = step >= 4000 || random.nextInt(4) == 0 ? null : "s" + step;
      Map<Integer, String> before = new HashMap<>(expected);
      ShardedMap<Integer, String> previous = map;
      map = map.with(key, value);
      if (value == null) {
        expected.remove(key);
      } else {
        expected.put(key, value);
      }
      assertThat(map.get(key)).isEqualTo(value);
      assertThat(map.size()).isEqualTo(expected.size());
      assertThat(previous).isEqualTo(before); // the old version is untouched
      if (step % 500 == 0) {
        assertThat(map).isEqualTo(expected);
        assertThat(map.entrySet()).hasSize(expected.size());
        assertThat(new HashMap<>(map)).isEqualTo(expected);
      }
    }
    for (int key = 0; key < 3000; key++) {
      map = map.with(key, null);
    }
    assertThat(map).isEmpty();
    assertThat(map.get(7)).isNull();
  }

  @Test
  void anUnchangedEntryGivesTheSameMap() {
    ShardedMap<String, String> map = ShardedMap.copyOf(Map.of("a", "1"));
    assertThat(map.with("a", map.get("a"))).isSameAs(map);
    assertThat(map.with("b", null)).isSameAs(map);
  }

  @Test
  void refusesNullKeysAndWrites() {
    ShardedMap<String, String> map = ShardedMap.copyOf(Map.of("a", "1"));
    assertThatThrownBy(() -> map.with(null, "x")).isInstanceOf(NullPointerException.class).hasMessage("key");
    assertThatThrownBy(() -> map.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.entrySet().iterator().next().setValue("2"))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
