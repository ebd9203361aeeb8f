package io.trellis.policy.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.trellis.api.codec.ResourceCodec;
import io.trellis.api.model.Resource;
import io.trellis.api.model.ResourceType;
import io.trellis.api.policy.v1.PolicyDiscoveryGrpc;
import io.trellis.api.policy.v1.ProxyRef;
import io.trellis.api.policy.v1.ProxyView;
import io.trellis.api.policy.v1.ResourceList;
import io.trellis.api.policy.v1.ResourcesRef;
import io.trellis.api.validation.Validators;
import io.trellis.policy.service.ProxyWatchHub;
import io.trellis.policy.service.ResourceCache;
import io.trellis.policy.view.ProxyViewBuilder;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** trellis.policy.v1.PolicyDiscovery: proxy views and resource lists for xds-service and ca-service. */
@GrpcService
public class PolicyDiscoveryService extends PolicyDiscoveryGrpc.PolicyDiscoveryImplBase {
  @Inject ProxyWatchHub hub;
  @Inject ResourceCache cache;
  @Inject ResourceCodec codec;

  @Override
  public void watchProxy(ProxyRef request, StreamObserver<ProxyView> responseObserver) {
    if (!validRef(request, responseObserver)) {
      return;
    }
    ServerCallStreamObserver<ProxyView> observer = (ServerCallStreamObserver<ProxyView>) responseObserver;
    Runnable cancel = hub.watch(request.getMesh(), request.getName(), view -> {
      synchronized (observer) {
        if (!observer.isCancelled()) {
          observer.onNext(view);
        }
      }
    });
    observer.setOnCancelHandler(cancel::run);
  }

  @Override
  public void getProxy(ProxyRef request, StreamObserver<ProxyView> responseObserver) {
    if (!validRef(request, responseObserver)) {
      return;
    }
    var view = ProxyViewBuilder.build(cache.snapshot(request.getMesh()), request.getName());
    if (view.isEmpty()) {
      responseObserver.onError(Status.NOT_FOUND.withDescription(
          "Dataplane " + request.getMesh() + "/" + request.getName() + " not found").asRuntimeException());
      return;
    }
    responseObserver.onNext(view.get());
    responseObserver.onCompleted();
  }

  @Override
  public void watchResources(ResourcesRef request, StreamObserver<ResourceList> responseObserver) {
    var type = ResourceType.fromName(request.getType());
    if (type.isEmpty()) {
      responseObserver.onError(Status.INVALID_ARGUMENT.withDescription("type: " + request.getType()
          + " (expected: one of " + ResourceType.allNames() + ")").asRuntimeException());
      return;
    }
    ServerCallStreamObserver<ResourceList> observer = (ServerCallStreamObserver<ResourceList>) responseObserver;
    AtomicLong version = new AtomicLong(System.currentTimeMillis() * 1000);
    AtomicReference<List<String>> last = new AtomicReference<>();
    Runnable send = () -> {
      List<String> jsons = cache.list(type.get(), request.getMesh()).stream()
          .map(codec::writeUniversalJson).toList();
      synchronized (observer) {
        if (!observer.isCancelled() && !jsons.equals(last.get())) {
          last.set(jsons);
          observer.onNext(ResourceList.newBuilder().setType(type.get().kumaName())
              .setVersion(version.incrementAndGet()).addAllResourceJsons(jsons).build());
        }
      }
    };
    Runnable remove = hub.onResourceChange(event -> {
      if (event.type() == type.get() && !observer.isCancelled()) {
        send.run();
      }
    });
    observer.setOnCancelHandler(remove::run);
    send.run();
  }

  private static boolean validRef(ProxyRef ref, StreamObserver<?> observer) {
    String problem = null;
    if (!Validators.isValidName(ref.getMesh())) {
      problem = "mesh: '" + ref.getMesh() + "' (expected: a resource name, lowercase letters, digits, '-', '.')";
    } else if (!Validators.isValidName(ref.getName())) {
      problem = "name: '" + ref.getName() + "' (expected: a resource name, lowercase letters, digits, '-', '.')";
    }
    if (problem != null) {
      observer.onError(Status.INVALID_ARGUMENT.withDescription(problem).asRuntimeException());
      return false;
    }
    return true;
  }
}
