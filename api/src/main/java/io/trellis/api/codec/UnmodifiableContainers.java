package io.trellis.api.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.deser.std.DelegatingDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.CollectionType;
import com.fasterxml.jackson.databind.type.MapType;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Makes the lists and maps inside records read by the codec unmodifiable, so resources are deeply
 * immutable.
 */
final class UnmodifiableContainers extends SimpleModule {
  private static final long serialVersionUID = 1L;

  UnmodifiableContainers() {
    super("trellis-unmodifiable-containers");
    setDeserializerModifier(
        new BeanDeserializerModifier() {
          @Override
          public JsonDeserializer<?> modifyCollectionDeserializer(
              DeserializationConfig config,
              CollectionType type,
              BeanDescription beanDesc,
              JsonDeserializer<?> deserializer) {
            return new Wrapping(deserializer);
          }

          @Override
          public JsonDeserializer<?> modifyMapDeserializer(
              DeserializationConfig config,
              MapType type,
              BeanDescription beanDesc,
              JsonDeserializer<?> deserializer) {
            return new Wrapping(deserializer);
          }
        });
  }

  private static final class Wrapping extends DelegatingDeserializer {
    private static final long serialVersionUID = 1L;

    Wrapping(JsonDeserializer<?> delegate) {
      super(delegate);
    }

    @Override
    protected JsonDeserializer<?> newDelegatingInstance(JsonDeserializer<?> newDelegatee) {
      return new Wrapping(newDelegatee);
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      Object value = super.deserialize(p, ctxt);
      if (value instanceof List<?> list) {
        return Collections.unmodifiableList(list);
      }
      if (value instanceof Map<?, ?> map) {
        return Collections.unmodifiableMap(map);
      }
      return value;
    }
  }
}
